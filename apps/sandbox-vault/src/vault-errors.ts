import { KitErrorCode, VendorDialect, VendorError, VendorErrorInfo } from '@pinflow/sandbox-kit';
import type { CodeRejection } from './one-time-code';
import type { PasscodeProblem } from './passcode-rules';

// Vault's error body: {error, errorId, message, field?, systemId, originalMessage?, errorStackTrace?,
// data?}. Vault documents the shape and one code (COMMON) only; the other codes and their ids are the
// sandbox's, listed in the README. originalMessage, errorStackTrace and data are never filled: they
// would be the place where a careless server quotes its input.

export const SYSTEM_ID = 'vault-sandbox';

/** Vault's words for the errors of its 500s, as documented. */
const COMMON_MESSAGE = "Sorry for inconvenience. We're fixing the issue. If you have urgent questions, contact support";

/** Every `error` the sandbox answers, with its `errorId`. */
export const VAULT_ERROR_IDS = {
  COMMON: 0,
  BAD_REQUEST: 1,
  VALIDATION_ERROR: 2,
  UNAUTHORIZED: 3,
  SERVICE_UNAVAILABLE: 4,
  GATEWAY_TIMEOUT: 5,
  CARD_NOT_FOUND: 10,
  CARD_CLOSED: 11,
  KEY_EXPIRED: 20,
  PASSCODE_UNREADABLE: 21,
  PASSCODE_INVALID_FORMAT: 22,
  PASSCODE_TOO_WEAK: 23,
  CODE_INVALID: 30,
  CODE_EXPIRED: 31,
  CODE_ALREADY_USED: 32,
  // The token endpoint's, named as OAuth2 names them (RFC 6749 5.2) so that OAuth2 clients understand them.
  invalid_request: 40,
  invalid_client: 41,
  unsupported_grant_type: 42,
} as const;
export type VaultErrorCode = keyof typeof VAULT_ERROR_IDS;

const FROM_KIT: Record<KitErrorCode, VaultErrorCode> = {
  UNAUTHORIZED: 'UNAUTHORIZED',
  UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL: 'COMMON',
  TIMEOUT: 'GATEWAY_TIMEOUT',
  MALFORMED_BODY: 'BAD_REQUEST',
  UNREADABLE_BODY: 'BAD_REQUEST',
  INVALID_BODY: 'VALIDATION_ERROR',
  HTTP_ERROR: 'COMMON',
};

function vaultCodeOf(code: string): VaultErrorCode {
  if (code in VAULT_ERROR_IDS) return code as VaultErrorCode;
  return FROM_KIT[code as KitErrorCode] ?? 'COMMON';
}

export function vaultErrorBody({ code, message, field }: VendorErrorInfo): object {
  const error = vaultCodeOf(code);
  return {
    error,
    errorId: VAULT_ERROR_IDS[error],
    message: code === 'INTERNAL' ? COMMON_MESSAGE : message,
    ...(field === undefined ? {} : { field }),
    systemId: SYSTEM_ID,
  };
}

export const VAULT_DIALECT: VendorDialect = { errorBody: vaultErrorBody, tokenErrorBody: vaultErrorBody };

/** An error answer of Vault's; 400 unless said otherwise, as Vault documents no other status for refusals. */
export function vaultError(code: VaultErrorCode, message: string, field?: string, status = 400): VendorError {
  return new VendorError(status, code, message, field);
}

export const CODE_MESSAGES: Record<CodeRejection, string> = {
  CODE_INVALID: 'The code is not the one sent to the cardholder',
  CODE_EXPIRED: 'The code has expired: send a new one',
  CODE_ALREADY_USED: 'The code was already used: send a new one',
};

export const PASSCODE_MESSAGES: Record<PasscodeProblem, string> = {
  PASSCODE_INVALID_FORMAT: 'The passcode must be exactly 4 digits',
  PASSCODE_TOO_WEAK: 'The passcode must not repeat a digit more than twice in a row',
};
