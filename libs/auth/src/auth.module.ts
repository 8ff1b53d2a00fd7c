import { Module, type DynamicModule } from '@nestjs/common';
import type { AuthConfig } from './auth-config';
import { JwtVerifier } from './jwt-verifier';

/**
 * Provides the {@link JwtVerifier} that {@link RequireScopes} guards use. Global, because every module
 * that declares a protected controller instantiates the guard itself.
 */
@Module({})
export class AuthModule {
  static forRoot(config: AuthConfig): DynamicModule {
    return {
      module: AuthModule,
      global: true,
      providers: [{ provide: JwtVerifier, useFactory: () => JwtVerifier.fromConfig(config) }],
      exports: [JwtVerifier],
    };
  }
}
