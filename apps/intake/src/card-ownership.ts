import type { AuthenticatedPrincipal } from '@pinflow/auth';
import { ProblemException } from '@pinflow/http';
import { z } from 'zod';

/**
 * Whether a write must name a card of the caller's tenant (`enforced`), or may name any card (`open`:
 * local runs, demos and tests, whose callers own no registered cards). Left unset it is `enforced` in
 * production (NODE_ENV=production, as the image sets it) and `open` elsewhere; `open` is refused in
 * production.
 */
export const cardOwnershipConfig = {
  INTAKE_CARD_OWNERSHIP: z.enum(['enforced', 'open']).optional(),
};

export type CardOwnershipMode = 'enforced' | 'open';

interface OwnershipSettings {
  INTAKE_CARD_OWNERSHIP?: CardOwnershipMode;
  NODE_ENV?: string;
}

/** The mode in force: the one configured, or the environment's default. */
export function cardOwnershipMode(settings: OwnershipSettings): CardOwnershipMode {
  return settings.INTAKE_CARD_OWNERSHIP ?? (settings.NODE_ENV === 'production' ? 'enforced' : 'open');
}

/**
 * Start-up checks: production never runs open, and when ownership is enforced every door's caller that
 * is not a bearer token (a Kafka requester, a D1 issuer) names the tenant whose cards it acts on; without
 * one all its writes would be refused.
 */
export function requireCardOwners(
  config: OwnershipSettings & { INTAKE_KAFKA_REQUESTERS?: Record<string, { tenant?: string }>; D1_INBOUND_ISSUERS: Record<string, { tenant?: string }> },
  context: z.RefinementCtx,
): void {
  if (config.INTAKE_CARD_OWNERSHIP === 'open' && config.NODE_ENV === 'production') {
    context.addIssue({ code: 'custom', path: ['INTAKE_CARD_OWNERSHIP'], message: 'open is refused in production (NODE_ENV=production): any caller could change any card' });
  }
  if (cardOwnershipMode(config) !== 'enforced') return;
  // Requesters read from INTAKE_KAFKA_REQUESTERS_FILE are checked as KafkaRequesters reads the file.
  for (const [requester, { tenant }] of Object.entries(config.INTAKE_KAFKA_REQUESTERS ?? {})) {
    if (tenant === undefined) context.addIssue({ code: 'custom', path: ['INTAKE_KAFKA_REQUESTERS', requester, 'tenant'], message: 'required while card ownership is enforced: the tenant whose cards this requester acts on' });
  }
  for (const [issuer, { tenant }] of Object.entries(config.D1_INBOUND_ISSUERS)) {
    if (tenant === undefined) context.addIssue({ code: 'custom', path: ['D1_INBOUND_ISSUERS', issuer, 'tenant'], message: "required while card ownership is enforced: the tenant that holds this issuer's cards" });
  }
}

/**
 * The tenant that must own the card `principal` writes to, or null when ownership is open. Operators
 * get no exemption: the operator scope reads everything, but a PIN is changed (or a card blocked) only
 * in the name of the tenant whose card it is. A caller with no tenant owns no card, and is told so
 * (403 TENANT_REQUIRED): that says nothing about any card.
 */
export function requiredCardOwner(mode: CardOwnershipMode, principal: AuthenticatedPrincipal): string | null {
  if (mode === 'open') return null;
  if (principal.tenant === undefined) {
    throw new ProblemException(403, 'TENANT_REQUIRED', 'The caller has no tenant', "Writes act only on cards of the caller's tenant: the access token must name one.");
  }
  return principal.tenant;
}

/**
 * A write naming a card that is not its tenant's. 404 rather than 403, and the same whether the card
 * belongs to another tenant or to none: the answer must not tell a caller which card ids exist
 * elsewhere (as REQUEST_NOT_FOUND does for requests).
 */
export function cardNotFound(): ProblemException {
  return new ProblemException(404, 'CARD_NOT_FOUND', 'No such card', "The card is not one of the caller's tenant's cards.");
}
