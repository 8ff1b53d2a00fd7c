import { Module, type DynamicModule } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import type { AuthConfig } from './auth-config';
import { DEFAULT_RATE_LIMIT, DEFAULT_RATE_LIMIT_WINDOW_MS } from './caller-rate-limit.guard';
import { JwtVerifier } from './jwt-verifier';

/**
 * Provides the {@link JwtVerifier} that {@link RequireScopes} guards use, and the per-caller rate
 * limit's counters (in memory: each replica counts its own requests). Global, because every module
 * that declares a protected controller instantiates the guards itself.
 */
@Module({})
export class AuthModule {
  static forRoot(config: AuthConfig): DynamicModule {
    return {
      module: AuthModule,
      global: true,
      imports: [
        ThrottlerModule.forRoot([
          { ttl: config.AUTH_RATE_LIMIT_WINDOW_MS ?? DEFAULT_RATE_LIMIT_WINDOW_MS, limit: config.AUTH_RATE_LIMIT ?? DEFAULT_RATE_LIMIT },
        ]),
      ],
      providers: [{ provide: JwtVerifier, useFactory: () => JwtVerifier.fromConfig(config) }],
      exports: [JwtVerifier],
    };
  }
}
