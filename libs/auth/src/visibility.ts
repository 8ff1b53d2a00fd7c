import type { AuthenticatedPrincipal } from './jwt-verifier';
import { OPERATOR_SCOPE } from './scopes';

/** Who made a request: the token subject that sent it and that token's tenant, if it had one. */
export interface RequestOwner {
  caller: string;
  tenant?: string | null;
}

export function isOperator(principal: AuthenticatedPrincipal): boolean {
  return principal.scopes.has(OPERATOR_SCOPE);
}

/**
 * Whether `principal` may see what `owner` did: its own requests, those of its tenant, or anything
 * with the operator scope. Subjects are unique at the issuer, so the subject alone names the caller.
 */
export function maySee(principal: AuthenticatedPrincipal, owner: RequestOwner): boolean {
  return isOperator(principal) || owner.caller === principal.subject || (owner.tenant != null && owner.tenant === principal.tenant);
}
