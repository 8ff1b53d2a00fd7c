import { KitErrorCode, VendorDialect, VendorError, VendorErrorInfo } from '@pinflow/sandbox-kit';
import { randomUUID } from 'node:crypto';

// Solaris' side of HTTP: its token path, where its paths name a card, and its JSON:API error body
// `{errors: [{id, status, code, title, detail, source?: {field, message}}]}`.

/** Solaris' client-credentials endpoint; its path is inferred from Solaris' general API docs. */
export const TOKEN_PATH = '/oauth2/token';

/** `/v1/cards/{card_account_id}/...`; `pin_keys` is no card (`/v1/cards/pin_keys/latest`). */
export const CARD_ID_IN_PATH = /^\/v1\/cards\/(?!pin_keys(?:\/|$))([^/]+)/;

export const SOLARIS_OPERATIONS = ['pinChanges'] as const;

/** Solaris' codes the sandbox answers with, and their titles. */
const TITLES = {
  validation_error: 'Validation Error',
  invalid_pin: 'Invalid PIN',
  invalid_tan: 'Invalid TAN',
  invalid_signature: 'Invalid Signature',
  change_request_expired: 'Change Request Expired',
  too_many_wrong_confirmations: 'Too Many Wrong Confirmations',
  unauthorized_action: 'Unauthorized Action',
  model_not_found: 'Model Not Found',
  generic_error: 'Generic Error',
  unauthorized: 'Unauthorized',
  service_unavailable: 'Service Unavailable',
  gateway_timeout: 'Gateway Timeout',
  http_error: 'HTTP Error',
} as const;
export type SolarisErrorCode = keyof typeof TITLES;

const FROM_KIT: Record<KitErrorCode, SolarisErrorCode> = {
  UNAUTHORIZED: 'unauthorized',
  UNAVAILABLE: 'service_unavailable',
  INTERNAL: 'generic_error',
  TIMEOUT: 'gateway_timeout',
  MALFORMED_BODY: 'validation_error',
  UNREADABLE_BODY: 'validation_error',
  INVALID_BODY: 'validation_error',
  HTTP_ERROR: 'http_error',
};

function solarisCodeOf(code: string): SolarisErrorCode {
  return code in TITLES ? (code as SolarisErrorCode) : (FROM_KIT[code as KitErrorCode] ?? 'generic_error');
}

/**
 * One error per answer. Solaris' examples give `status` as a string ("404"), as JSON:API does,
 * while its 400 field list says integer: the sandbox answers strings throughout.
 */
export function solarisErrorBody({ status, code, message, field }: VendorErrorInfo): object {
  const solarisCode = solarisCodeOf(code);
  return {
    errors: [
      {
        id: randomUUID(),
        status: String(status),
        code: solarisCode,
        title: TITLES[solarisCode],
        // Solaris' documented wording for its 500s.
        detail: solarisCode === 'generic_error' ? 'There was an error.' : message,
        ...(field === undefined ? {} : { source: { field, message } }),
      },
    ],
  };
}

export const SOLARIS_DIALECT: VendorDialect = { errorBody: solarisErrorBody };

/** A Solaris error answer; 400 unless said otherwise. The message never quotes the request. */
export function solarisError(code: SolarisErrorCode, message: string, field?: string, status = 400): VendorError {
  return new VendorError(status, code, message, field);
}

export const unauthorizedAction = (): VendorError => solarisError('unauthorized_action', 'Unauthorized action is not allowed.', undefined, 403);

export const modelNotFound = (model: string, id: string): VendorError => solarisError('model_not_found', `Couldn't find '${model}' for id '${id}'.`, undefined, 404);
