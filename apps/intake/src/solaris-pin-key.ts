import { Controller, Get, Header, Inject, Injectable } from '@nestjs/common';
import { PIN_WRITE_SCOPE, RequireScopes } from '@pinflow/auth';
import { ProblemException } from '@pinflow/http';
import { joinUrl, OAuth2HttpClient, parseJsonOrText } from '@pinflow/vendor-http';
import { z } from 'zod';
import { INTAKE_CONFIG, IntakeConfig } from './config';

/** Solaris' PIN key as Solaris serves it (`alg` says RS256 though the key is used for RSA-OAEP-256). */
const solarisPinKey = z.object({
  kid: z.string().min(1),
  kty: z.literal('RSA'),
  use: z.string().optional(),
  alg: z.string().optional(),
  n: z.string().min(1),
  e: z.string().min(1),
});
export type SolarisPinKey = z.infer<typeof solarisPinKey>;

/**
 * Solaris' current PIN encryption key, fetched with pinflow's Solaris credentials and cached, so a
 * cardholder's app needs only its own backend (and the backend only pinflow) to encrypt a new PIN.
 */
@Injectable()
export class SolarisPinKeyService {
  private readonly client?: OAuth2HttpClient;
  private cached?: { key: SolarisPinKey; until: number };

  constructor(@Inject(INTAKE_CONFIG) private readonly config: IntakeConfig) {
    const { SOLARIS_BASE_URL, SOLARIS_TOKEN_URL, SOLARIS_CLIENT_ID, SOLARIS_CLIENT_SECRET } = config;
    if (SOLARIS_BASE_URL && SOLARIS_TOKEN_URL && SOLARIS_CLIENT_ID && SOLARIS_CLIENT_SECRET) {
      this.client = new OAuth2HttpClient({
        tokenUrl: SOLARIS_TOKEN_URL,
        clientId: SOLARIS_CLIENT_ID,
        clientSecret: SOLARIS_CLIENT_SECRET,
        // As Solaris documents its client credentials: HTTP Basic, scope partners.
        authStyle: 'basic',
        scope: 'partners',
        timeoutMs: 5_000,
      });
    }
  }

  async current(): Promise<SolarisPinKey> {
    if (this.cached && Date.now() < this.cached.until) return this.cached.key;
    if (!this.client) throw new ProblemException(503, 'SOLARIS_NOT_CONFIGURED', "Solaris' PIN key is not available", 'This deployment has no Solaris credentials.');
    const result = await this.client.send({ method: 'GET', url: joinUrl(this.config.SOLARIS_BASE_URL!, '/v1/cards/pin_keys/latest') });
    const key = result.kind === 'answered' && result.status === 200 ? solarisPinKey.safeParse(parseJsonOrText(result.body)) : undefined;
    if (!key?.success) {
      throw new ProblemException(502, 'SOLARIS_UNAVAILABLE', "Solaris' PIN key could not be fetched", 'Retry shortly.', { retryable: true });
    }
    this.cached = { key: key.data, until: Date.now() + this.config.INTAKE_SOLARIS_KEY_TTL_SECONDS * 1000 };
    return key.data;
  }
}

@Controller('v1/solaris/pin-key')
@RequireScopes(PIN_WRITE_SCOPE)
export class SolarisPinKeyController {
  constructor(private readonly keys: SolarisPinKeyService) {}

  /** The JWK for the device to encrypt `{"pin":"…"}` to (RSA-OAEP-256 / A256CBC-HS512, `kid` = key id). */
  @Get()
  @Header('Cache-Control', 'private, max-age=60')
  current(): Promise<SolarisPinKey> {
    return this.keys.current();
  }
}
