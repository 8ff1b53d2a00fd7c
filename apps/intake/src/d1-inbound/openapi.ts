import { z } from 'zod';
import { setPinBody } from './pin-block';

const d1Error = (description: string) => ({
  description,
  content: { 'application/json': { schema: { type: 'object', required: ['errorCode', 'errorMessage'], properties: { errorCode: { type: 'string' }, errorMessage: { type: 'string' } } } } },
});

const cardParameters = [
  { name: 'issuerId', in: 'path', required: true, schema: { type: 'string', minLength: 10, maxLength: 10 } },
  { name: 'cardId', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,48}$' } },
  {
    name: 'x-correlation-id',
    in: 'header',
    required: false,
    schema: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,128}$' },
    description: "D1's correlation id: a push repeating one for the same card is answered again and applied once.",
  },
];

const security = [{ d1: [] }];
const cardErrors = { '400': d1Error('INVALID_ISSUER_ID, INVALID_CARD_ID, INVALID_CORRELATION_ID'), '401': d1Error('UNAUTHORIZED: no valid token from /authz/d1/v1/oauth2/token'), '404': d1Error('ISSUER_NOT_FOUND: an issuer pinflow does not serve'),
  '429': d1Error("RATE_LIMITED: more calls from this D1 client than AUTH_RATE_LIMIT per AUTH_RATE_LIMIT_WINDOW_MS; retry after Retry-After seconds"),
};

/** The part of intake's OpenAPI document that Thales D1 calls: pinflow as the issuer's card management system. */
export const d1InboundPaths = {
  '/authz/d1/v1/oauth2/token': {
    post: {
      summary: "Thales D1's access token (OAuth2 client credentials)",
      description: "D1's client id and secret in HTTP Basic, grant_type=client_credentials in a form body. Errors are OAuth2's {error}.",
      security: [],
      requestBody: { required: true, content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', required: ['grant_type'], properties: { grant_type: { const: 'client_credentials' } } } } } },
      responses: {
        '200': { description: 'A bearer token for the PIN Management calls', content: { 'application/json': { schema: { type: 'object', required: ['access_token', 'token_type', 'expires_in', 'scope'] } } } },
        '400': { description: 'invalid_request, unsupported_grant_type' },
        '401': { description: 'invalid_client' },
      },
    },
  },
  '/cms/api/v1/issuers/{issuerId}/cards/{cardId}/pin': {
    put: {
      summary: 'Thales D1 pushes a card’s new PIN',
      description:
        "Thales D1's PIN Management API (Set Card PIN). The JSON PIN block, a JWE (ECDH-ES, A256GCM) to the issuer's key, is read in memory and the PIN changed at the processor holding the issuer's cards (D1_INBOUND_ISSUERS) like any other change: its events and audit trail follow. 3DES_SECCOS: the PIN of its format 1 block, checked against the processor's rules and the weak-PIN policy, carrying the change counter. ISO0: the format 0 block is bound to the card's PAN, which only the processor holds, so it goes to a processor that reads PIN blocks (Pismo: update_pin_block, under its zone PIN key) as it came, checked only as far as it reads without the PAN (format 0, a PIN length the processor takes); the processor decodes it and refuses a PIN it cannot apply (failed, VENDOR_REJECTED). The weak-PIN policy cannot be applied to an ISO0 block, and it uses no change counter. 204 once the change is durably accepted; Location is its status URL.",
      security,
      parameters: cardParameters,
      requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(setPinBody, { io: 'input' }) } } },
      responses: {
        '204': { description: 'Accepted, durably' },
        ...cardErrors,
        '400': d1Error('INVALID_BODY, INVALID_ENCRYPTED_PIN_BLOCK, INVALID_PIN_BLOCK, PIN_BLOCK_TYPE_NOT_SUPPORTED (ISO0 for an issuer whose processor takes no PIN blocks: bound to a PAN pinflow does not hold), PIN_REJECTED (for ISO0: a PIN length the processor does not take), and the path errors'),
        '409': d1Error("CORRELATION_ID_REUSED: the same x-correlation-id pushed another block type for this card; STALE_CHANGE_COUNTER: a 3DES_SECCOS block computed with another counter than the card's current one (read .../pin/changeCounter again); PIN_CHANGE_IN_PROGRESS: the card's previous push has no outcome yet, and the counter moves on only if that change completes (read the counter again once it has)"),
        '503': d1Error('UNAVAILABLE: nothing was recorded; retry (Retry-After)'),
      },
    },
    get: {
      summary: 'Thales D1 reads a card’s PIN: never available',
      description: 'pinflow never stores a PIN in any form, so it has none to give back: 404 PIN_NOT_AVAILABLE.',
      security,
      parameters: cardParameters,
      responses: { ...cardErrors, '404': d1Error('PIN_NOT_AVAILABLE, or ISSUER_NOT_FOUND') },
    },
  },
  '/cms/api/v1/issuers/{issuerId}/cards/{cardId}/pin/changeCounter': {
    get: {
      summary: 'Thales D1 reads a card’s Seccos PIN change counter',
      description: "The counter D1 computes a 3DES_SECCOS block with (its PRW and MAC), which the push must carry: 0 for a card never pushed to, one more for each pushed PIN change the processor completed (a push it failed leaves it as it was).",
      security,
      parameters: cardParameters,
      responses: {
        '200': { description: 'The current counter', content: { 'application/json': { schema: { type: 'object', required: ['changeCounter'], properties: { changeCounter: { type: 'integer', minimum: 0 } } } } } },
        ...cardErrors,
      },
    },
  },
};

/** D1's tokens are not pinflow's callers' tokens. */
export const d1SecurityScheme = { d1: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A token from /authz/d1/v1/oauth2/token' } };
