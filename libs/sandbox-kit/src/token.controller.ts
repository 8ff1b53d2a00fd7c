import { Body, Controller, Header, Headers, HttpCode, Inject, Post, Type, UseFilters } from '@nestjs/common';
import { z } from 'zod';
import { FaultInjector } from './faults';
import { SANDBOX_KIT_OPTIONS, type SandboxKitOptions } from './options';
import { basicCredentials, credentialsMatch, TokenIssuer, TokenResponse } from './tokens';
import { TokenError } from './vendor-error';
import { VendorErrorFilter } from './vendor-http';

const tokenRequest = z.object({
  grant_type: z.string().optional(),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
});

/**
 * The vendor's OAuth2 client-credentials endpoint at `path`: credentials as a JSON or form body, or
 * HTTP Basic. A class per sandbox, since the path is part of a route's declaration.
 */
export function tokenControllerAt(path: string): Type {
  @Controller()
  @UseFilters(VendorErrorFilter)
  class TokenController {
    constructor(
      @Inject(SANDBOX_KIT_OPTIONS) private readonly options: SandboxKitOptions,
      private readonly tokens: TokenIssuer,
      private readonly faults: FaultInjector,
    ) {}

    @Post(path)
    @HttpCode(200)
    @Header('Cache-Control', 'no-store')
    token(@Body() body: unknown, @Headers('authorization') authorization?: string): TokenResponse {
      const request = tokenRequest.safeParse(body ?? {});
      if (!request.success || request.data.grant_type === undefined) throw new TokenError(400, 'invalid_request');
      if (request.data.grant_type !== 'client_credentials') throw new TokenError(400, 'unsupported_grant_type');
      const { client_id: clientId, client_secret: clientSecret } = request.data;
      const given = basicCredentials(authorization) ?? (clientId !== undefined && clientSecret !== undefined ? { clientId, clientSecret } : undefined);
      const { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET } = this.options.settings;
      if (given === undefined || !credentialsMatch(given, { clientId: SANDBOX_CLIENT_ID, clientSecret: SANDBOX_CLIENT_SECRET })) throw new TokenError(401, 'invalid_client');
      const token = this.tokens.issue(this.faults.knobs.tokenTtlSeconds);
      return this.options.tokenScope === undefined ? token : { ...token, scope: this.options.tokenScope };
    }
  }
  return TokenController;
}
