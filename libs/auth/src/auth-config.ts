import { z } from 'zod';

/** Signature algorithms pinflow accepts on access tokens; anything else (HS*, none) is refused. */
export const JWT_ALGORITHMS = ['RS256', 'ES256', 'PS256', 'EdDSA'] as const;

export const AUTH_KEY_SOURCE_RULE = 'Set exactly one of AUTH_JWKS_URL and AUTH_PUBLIC_KEY_FILE';

/**
 * Environment fields for bearer-token auth, to spread into a service's config schema. The
 * exactly-one-key-source rule spans fields, so spreading drops it; {@link JwtVerifier.fromConfig}
 * enforces it again at start-up.
 */
export const authConfig = {
  AUTH_ISSUER: z.string().min(1),
  AUTH_AUDIENCE: z.string().min(1),
  /** JWKS of the token issuer, fetched and cached at runtime. */
  AUTH_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** A public JWK, a JWKS or a PEM SPKI public key. */
  AUTH_PUBLIC_KEY_FILE: z.string().min(1).optional(),
  /** The access-token claim naming the caller's tenant, when the issuer sets one (default `tenant`). */
  AUTH_TENANT_CLAIM: z.string().min(1).optional(),
  /** Requests one caller may make per AUTH_RATE_LIMIT_WINDOW_MS before answers turn to 429 (default 100). */
  AUTH_RATE_LIMIT: z.coerce.number().int().positive().optional(),
  /** The rate limit's window (default 1000 ms). */
  AUTH_RATE_LIMIT_WINDOW_MS: z.coerce.number().int().positive().optional(),
};

/** {@link authConfig} on its own, with the key-source rule. */
export const authConfigSchema = z
  .object(authConfig)
  .refine((config) => (config.AUTH_JWKS_URL === undefined) !== (config.AUTH_PUBLIC_KEY_FILE === undefined), {
    message: AUTH_KEY_SOURCE_RULE,
    path: ['AUTH_JWKS_URL'],
  });

export type AuthConfig = z.infer<typeof authConfigSchema>;
