import { jsonText, positiveInt } from '@pinflow/config';
import { z } from 'zod';

/**
 * The processors a card D1 pushes a PIN for can be routed to: those whose PIN change takes the PIN
 * alone. Solaris wants it encrypted on the cardholder's device, Vault an SMS code, and another CMS
 * speaking D1's API a PAN, none of which D1's push carries.
 */
export const D1_ROUTABLE_VENDORS = ['pismo'] as const;
export type D1RoutableVendor = (typeof D1_ROUTABLE_VENDORS)[number];

const issuerRoute = z.strictObject({
  vendor: z.enum(D1_ROUTABLE_VENDORS),
  // D1 pushes the PIN of a physical card: by default its chip's offline PIN follows the new one.
  syncOfflinePin: z.boolean().default(true),
  /** The tenant that holds the issuer's cards: D1's pushes for them are writes in its name (see INTAKE_CARD_OWNERSHIP). */
  tenant: z.string().min(1).optional(),
});
export type D1IssuerRoute = z.output<typeof issuerRoute>;

/** `{"<issuerId>": {"vendor": "pismo", "tenant": "acme"}}`: which processor holds each D1 issuer's cards, and for which tenant. */
const issuerRoutes = jsonText.pipe(z.record(z.string().length(10, 'issuer ids are exactly 10 characters, as D1 declares them'), issuerRoute));

/** pinflow as the card management system Thales D1 calls (PIN Management API, inbound). */
export const d1InboundConfig = {
  D1_INBOUND_ISSUERS: issuerRoutes.default({}),
  /** D1's client credentials at pinflow's token endpoint, agreed at onboarding. */
  D1_INBOUND_CLIENT_ID: z.string().min(1).optional(),
  D1_INBOUND_CLIENT_SECRET: z.string().min(32, 'must be at least 32 characters: it keys the access tokens').optional(),
  /** pinflow's P-256 private key(s), JWK or JWKS, whose public halves D1 encrypts PIN blocks to. */
  D1_INBOUND_ENCRYPTION_KEY_FILE: z.string().min(1).optional(),
  D1_INBOUND_TOKEN_TTL_SECONDS: positiveInt.max(3600).default(300),
};

type D1InboundSettings = z.output<z.ZodObject<typeof d1InboundConfig>>;

/** With an issuer to serve, D1 needs credentials and a key to encrypt to; without one, nothing is needed. */
export function requireD1InboundSettings(config: D1InboundSettings, context: z.RefinementCtx): void {
  if (Object.keys(config.D1_INBOUND_ISSUERS).length === 0) return;
  for (const name of ['D1_INBOUND_CLIENT_ID', 'D1_INBOUND_CLIENT_SECRET', 'D1_INBOUND_ENCRYPTION_KEY_FILE'] as const) {
    if (config[name] === undefined) context.addIssue({ code: 'custom', path: [name], message: 'required when D1_INBOUND_ISSUERS names an issuer' });
  }
}

/** The settings of a D1 door that serves at least one issuer. */
export interface D1InboundConfig {
  issuers: Record<string, D1IssuerRoute>;
  clientId: string;
  clientSecret: string;
  encryptionKeyFile: string;
  tokenTtlSeconds: number;
}

/** The door's settings, or undefined when it serves no issuer (every call then finds no issuer). */
export function d1InboundSettings(config: D1InboundSettings): D1InboundConfig | undefined {
  const { D1_INBOUND_ISSUERS: issuers, D1_INBOUND_CLIENT_ID: clientId, D1_INBOUND_CLIENT_SECRET: clientSecret, D1_INBOUND_ENCRYPTION_KEY_FILE: encryptionKeyFile } = config;
  if (Object.keys(issuers).length === 0 || !clientId || !clientSecret || !encryptionKeyFile) return undefined;
  return { issuers, clientId, clientSecret, encryptionKeyFile, tokenTtlSeconds: config.D1_INBOUND_TOKEN_TTL_SECONDS };
}
