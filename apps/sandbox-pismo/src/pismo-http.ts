import type { VendorDialect, VendorErrorInfo } from '@pinflow/sandbox-kit';
import { correlationIdOf, VendorError } from '@pinflow/sandbox-kit';
import type { FastifyRequest } from 'fastify';
import { CardRejected } from './card';

// Pismo's side of HTTP: its error bodies, its correlation ids and where its paths name a card.

export const TOKEN_PATH = '/passport/v1/oauth2/token';

/** Both card hosts' paths: `/pcicards/.../card/{id}`, `/pcicards/v1/pcicards/{id}/scripts/...` and `/wallet/.../cards/{id}/...`. */
export const CARD_ID_IN_PATH = /\/(?:pcicards\/v1\/pcicards|cards?)\/([^/?#]+)/;

export const CID_HEADER = 'x-cid';

/** The request's `x-cid`, or one made up for it; the same value for the whole request. */
export function cidOf(request: FastifyRequest): string {
  return correlationIdOf(request, CID_HEADER);
}

export const PISMO_OPERATIONS = ['pinChanges', 'triesIncreases', 'triesResets', 'offlinePinSyncs', 'pinUpdateScripts', 'pinBlockUpdates'] as const;
export type PismoOperation = (typeof PISMO_OPERATIONS)[number];

const REJECTION_STATUS: Record<CardRejected['reason'], number> = { TERMINAL_STATUS: 403, TRIES_NOT_RESETTABLE: 406 };

/** Pismo answers errors as `{"message": ...}`; its token endpoint as OAuth2 does. */
export const PISMO_DIALECT: VendorDialect = {
  errorBody: ({ message }: VendorErrorInfo) => ({ message }),
  errorFor: (exception) => (exception instanceof CardRejected ? new VendorError(REJECTION_STATUS[exception.reason], exception.reason, exception.message) : undefined),
};
