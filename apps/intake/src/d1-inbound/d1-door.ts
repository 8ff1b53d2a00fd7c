import { D1AccessTokens, D1TokenResponse } from './access-tokens';
import { D1InboundConfig, D1IssuerRoute } from './config';
import { D1Error, TokenRefusal } from './d1-errors';
import { CARD_ID, CORRELATION_ID } from './d1-http';
import { D1EncryptionKeys, D1Push, SetPinBody } from './pin-block';

/**
 * pinflow as the card management system D1 calls: its onboarding (D1's credentials, pinflow's keys,
 * the issuers it serves) and the checks every PIN Management call goes through, in D1's error model.
 * Without an issuer configured it serves none: tokens are refused and every issuer is unknown.
 */
export class D1Door {
  private constructor(
    private readonly settings?: D1InboundConfig,
    private readonly tokens?: D1AccessTokens,
    private readonly keys?: D1EncryptionKeys,
  ) {}

  static async create(settings: D1InboundConfig | undefined): Promise<D1Door> {
    if (!settings) return new D1Door();
    const tokens = new D1AccessTokens(settings.clientId, settings.clientSecret, settings.tokenTtlSeconds);
    return new D1Door(settings, tokens, await D1EncryptionKeys.load(settings.encryptionKeyFile));
  }

  issueToken(authorization: string | undefined, grantType: unknown): Promise<D1TokenResponse> {
    if (!this.tokens) throw new TokenRefusal(401, 'invalid_client');
    return this.tokens.issue(authorization, grantType);
  }

  /** D1's access token (401 otherwise): the D1 client it was issued to. */
  authenticate(authorization: string | undefined): Promise<string> {
    if (!this.tokens) throw new D1Error(401, 'UNAUTHORIZED', 'A valid bearer token from /authz/d1/v1/oauth2/token is required');
    return this.tokens.verify(authorization);
  }

  /**
   * The checks of every card call after its token's: the path as D1 declares it (400), then an issuer
   * pinflow serves (404, as a CMS has no cards of another issuer). Gives where the issuer's cards are.
   */
  route(issuerId: string, cardId: string): D1IssuerRoute {
    if (issuerId.length !== 10) throw new D1Error(400, 'INVALID_ISSUER_ID', 'issuerId must be exactly 10 characters');
    if (!CARD_ID.test(cardId)) throw new D1Error(400, 'INVALID_CARD_ID', 'cardId must match ^[A-Za-z0-9_-]{1,48}$');
    const route = this.settings && Object.hasOwn(this.settings.issuers, issuerId) ? this.settings.issuers[issuerId] : undefined;
    if (!route) throw new D1Error(404, 'ISSUER_NOT_FOUND', 'The CMS serves no issuer with this id');
    return route;
  }

  /** x-correlation-id, which D1 may leave out. */
  correlationId(header: string | undefined): string | undefined {
    if (header === undefined) return undefined;
    if (!CORRELATION_ID.test(header)) throw new D1Error(400, 'INVALID_CORRELATION_ID', 'x-correlation-id must be 1 to 128 letters, digits or _.:-');
    return header;
  }

  read(body: SetPinBody): Promise<D1Push> {
    return this.keys!.read(body);
  }
}
