import { VendorError, type VendorDialect } from '@pinflow/sandbox-kit';
import { z } from 'zod';
import { PIN_BLOCK_TYPES } from './pin-block-json';

export const TOKEN_PATH = '/authz/d1/v1/oauth2/token';
export const CORRELATION_HEADER = 'x-correlation-id';
export const CMS_CARD_PATH = /^\/cms\/api\/v1\/issuers\/[^/]*\/cards\/([^/]+)/;

/** D1 publishes no error schema for the CMS side: the sandbox answers `{errorCode, errorMessage}`. */
export const D1_DIALECT: VendorDialect = {
  errorBody: ({ code, message }) => ({ errorCode: code, errorMessage: message }),
};

/** The scope of every token the CMS issues (`{access_token, token_type, expires_in, scope}`): D1 has one use for them. */
export const TOKEN_SCOPE = 'pin_management';

export const CARD_ID_PATTERN = /^[A-Za-z0-9_-]{1,48}$/;

/** Path parameters exactly as D1's PIN Management API declares them. */
export function requireCardAddress(issuerId: string, cardId: string, servedIssuerId: string): void {
  if (issuerId.length !== 10) throw new VendorError(400, 'INVALID_ISSUER_ID', 'issuerId must be exactly 10 characters', 'issuerId');
  if (!CARD_ID_PATTERN.test(cardId)) throw new VendorError(400, 'INVALID_CARD_ID', 'cardId must match ^[A-Za-z0-9_-]{1,48}$', 'cardId');
  // A CMS serves its own issuer: another issuer's cards do not exist here.
  if (issuerId !== servedIssuerId) throw new VendorError(404, 'ISSUER_NOT_FOUND', 'The CMS serves no issuer with this id', 'issuerId');
}

export const setPinBody = z.strictObject(
  {
    type: z.enum(PIN_BLOCK_TYPES, { error: `type must be one of ${PIN_BLOCK_TYPES.join(', ')}` }),
    encryptedPinBlock: z
      .string({ error: 'encryptedPinBlock must be a string' })
      .min(1, { error: 'encryptedPinBlock must not be empty' })
      .max(8192, { error: 'encryptedPinBlock must be at most 8192 characters' }),
  },
  { error: 'the body must be a JSON object with type and encryptedPinBlock only' },
);
