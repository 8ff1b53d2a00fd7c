import { z } from 'zod';
import {
  acceptedResponse,
  emptyBody,
  pismoChangePinBody,
  pismoIncreasePasswordTriesBody,
  pismoUpdateOfflinePinBody,
  requestStatusResponse,
  solarisChangePinBody,
  thalesD1ChangePinBody,
  vaultCheckVerificationCodeBody,
  vaultSetPasscodeBody,
} from './api-schemas';
import { d1InboundPaths, d1SecurityScheme } from './d1-inbound/openapi';

const schema = (type: z.ZodType) => z.toJSONSchema(type, { io: 'input', unrepresentable: 'any' });

const problem = {
  description: 'Problem details (RFC 9457)',
  content: {
    'application/problem+json': {
      schema: {
        type: 'object',
        required: ['type', 'title', 'status', 'code'],
        properties: {
          type: { type: 'string' },
          title: { type: 'string' },
          status: { type: 'integer' },
          detail: { type: 'string' },
          code: { type: 'string', description: 'Stable machine-readable error code' },
          errors: { type: 'array', items: { type: 'object' }, description: 'Invalid fields (VALIDATION_FAILED)' },
          reason: {
            type: 'string',
            enum: ['FORMAT', 'WEAK'],
            description: 'Why a PIN was refused (PIN_REJECTED), in general terms only: not the format the vendor takes, or too easy to guess',
          },
        },
      },
    },
  },
};

const accepted = {
  description: 'Accepted: the command is on its way. Follow statusUrl (also in Location) for the outcome.',
  headers: { 'Idempotent-Replayed': { schema: { type: 'string' }, description: '"true" when this is the stored answer to an earlier request with the same Idempotency-Key' } },
  content: { 'application/json': { schema: schema(acceptedResponse) } },
};

const rateLimited = {
  ...problem,
  description: 'RATE_LIMITED: more requests from this caller than AUTH_RATE_LIMIT per AUTH_RATE_LIMIT_WINDOW_MS; retry after Retry-After seconds',
  headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds until this caller may send again' } },
};

const pathParameter = (name: string, schema: Record<string, unknown>) => ({ name, in: 'path', required: true, schema });
const cardIdParameter = pathParameter('cardId', { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' });
const vaultCardIdParameter = pathParameter('cardId', { type: 'string', pattern: '^[1-9][0-9]{0,18}$', description: 'A positive int64: at most 9223372036854775807' });
const idempotencyKeyParameter = {
  name: 'Idempotency-Key',
  in: 'header',
  required: true,
  schema: { type: 'string', maxLength: 255 },
  description: 'Required (400 IDEMPOTENCY_KEY_REQUIRED without it). Repeat a request safely: the same key and body return the first answer and change nothing; the same key with another body is refused (422).',
};

const writeErrors = {
  '400': problem,
  '401': problem,
  '403': problem,
  '409': problem,
  '413': { ...problem, description: 'PAYLOAD_TOO_LARGE: bodies are at most 32 kB' },
  '415': { ...problem, description: 'UNSUPPORTED_MEDIA_TYPE: bodies are JSON in UTF-8, without Content-Encoding' },
  '422': problem,
  '429': rateLimited,
  '503': problem,
};

/** A write operation: scope pin:write, an Idempotency-Key, 202 with a status URL. */
function write(summary: string, description: string, parameters: object[], body: z.ZodType, bodyRequired = true) {
  return {
    post: {
      summary,
      description: `Scope pin:write. ${description}`,
      parameters: [...parameters, idempotencyKeyParameter],
      requestBody: { required: bodyRequired, content: { 'application/json': { schema: schema(body) } } },
      responses: { '202': accepted, ...writeErrors },
    },
  };
}

/** intake's OpenAPI 3.1 document, generated from the zod schemas that validate the requests. */
export function openApiDocument() {
  return {
    openapi: '3.1.0',
    info: {
      title: 'pinflow intake',
      version: '1.0.0',
      description: 'Change card PINs at card processors through one front door. PINs travel only as JWE encrypted to the keys at /v1/pin-keys.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, ...d1SecurityScheme },
    },
    security: [{ bearer: [] }],
    paths: {
      '/v1/pismo/cards/{cardId}/pin': write(
        "Change a Pismo card's PIN",
        "The PIN is checked against Pismo's rules (4–6 digits) and pinflow's weak-PIN policy before anything is published.",
        [cardIdParameter],
        pismoChangePinBody,
      ),
      '/v1/pismo/cards/{cardId}/password-tries/increase': write(
        "Increase a Pismo card's password tries counter",
        'With blockCardExceedsCounter, the card is blocked when the counter reaches the program maximum.',
        [cardIdParameter],
        pismoIncreasePasswordTriesBody,
      ),
      '/v1/pismo/cards/{cardId}/password-tries/reset': write(
        "Reset a Pismo card's password tries counter",
        'Pismo also unblocks a card that exceeding its tries had blocked; it refuses (failure event, vendorStatus 406) a card in any status but BLOCKED, NORMAL, PENDING or WARNING. No body, or {}.',
        [cardIdParameter],
        emptyBody,
        false,
      ),
      '/v1/pismo/cards/{cardId}/offline-pin/sync': write(
        "Write a Pismo card's online PIN to its chip",
        "Pismo appends a SYNC_PIN script that the chip receives at its next contact authorization: pinflow.card.issuer_script.appended, then issuer_script.requested as Pismo creates and applies it. No body, or {}.",
        [cardIdParameter],
        emptyBody,
        false,
      ),
      '/v1/pismo/cards/{cardId}/offline-pin': write(
        "Write a PIN to a Pismo card's chip only",
        "Through the issuer's PIN update script registered with Pismo (scriptId) for the card's account (accountId): the chip takes the PIN at its next contact authorization; the online PIN is left alone. The PIN is checked against Pismo's rules and the weak-PIN policy. Succeeds with pinflow.card.issuer_script.appended.",
        [cardIdParameter],
        pismoUpdateOfflinePinBody,
      ),
      '/v1/solaris/cards/{cardId}/pin': write(
        "Change a Solaris card's PIN",
        "Relays what the cardholder's device produced: the PIN as a JWE to Solaris' key (see /v1/solaris/pin-key) and the device-binding signature. pinflow cannot read the PIN; Solaris enforces its PIN rules.",
        [cardIdParameter],
        solarisChangePinBody,
      ),
      '/v1/solaris/pin-key': {
        get: {
          summary: "Solaris' current PIN encryption key (JWK)",
          description: "Scope pin:write. For the cardholder's device: encrypt {\"pin\":\"…\"} to it as a compact JWE (RSA-OAEP-256, A256CBC-HS512, kid), sign the JWE with the device-binding key, and send both to /v1/solaris/cards/{cardId}/pin.",
          responses: { '200': { description: 'RSA JWK', content: { 'application/json': { schema: { type: 'object' } } } }, '401': problem, '403': problem, '502': problem, '503': problem },
        },
      },
      '/v1/thales-d1/issuers/{issuerId}/cards/{cardId}/pin': write(
        'Push a PIN to a card management system speaking Thales D1\'s PIN Management API',
        'PIN (4–12 digits, weak-PIN policy) and PAN (for the ISO 9564 format-0 PIN block) travel encrypted to pinflow\'s key.',
        [pathParameter('issuerId', { type: 'string', pattern: '^[A-Za-z0-9_-]{10}$' }), pathParameter('cardId', { type: 'string', pattern: '^[A-Za-z0-9_-]{1,48}$' })],
        thalesD1ChangePinBody,
      ),
      '/v1/vault/cards/{cardId}/passcode': write(
        "Set a Vault card's passcode",
        "The passcode (Vault's rules: 4 digits, no more than two identical digits in a row; weak-PIN policy) and the cardholder's one-time code from Vault's SMS step travel encrypted to pinflow's key.",
        [pathParameter('cardId', { type: 'string', pattern: '^[1-9][0-9]{0,18}$', description: 'A positive int64: at most 9223372036854775807' })],
        vaultSetPasscodeBody,
      ),
      '/v1/vault/cards/{cardId}/verification-code': write(
        'Have Vault text the cardholder a one-time code',
        'The code set_passcode needs; a new code replaces any earlier one. Succeeds with pinflow.card.verification_code.sent. No body, or {}.',
        [vaultCardIdParameter],
        emptyBody,
        false,
      ),
      '/v1/vault/cards/{cardId}/verification-code/check': write(
        'Check the one-time code the cardholder typed',
        "Vault checks it is the latest code texted to the card, unused and unexpired, without using it up: pinflow.card.verification_code.checked, or a failure naming Vault's error (CODE_INVALID, CODE_EXPIRED, CODE_ALREADY_USED). The code travels encrypted to pinflow's key.",
        [vaultCardIdParameter],
        vaultCheckVerificationCodeBody,
      ),
      '/v1/requests/{requestId}': {
        get: {
          summary: 'What happened to a request',
          description:
            'Scope pin:read. Status accepted until a final outcome (succeeded or failed) arrives, with the events that answered it. Only the caller that made the request, callers of its tenant and tokens with pinflow:operator see it; to anyone else it is 404.',
          parameters: [{ name: 'requestId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
          responses: { '200': { description: 'Request status', content: { 'application/json': { schema: schema(requestStatusResponse) } } }, '400': problem, '401': problem, '403': problem, '404': problem, '429': rateLimited },
        },
      },
      '/v1/pin-keys': {
        get: {
          summary: "pinflow's public PIN encryption keys (JWKS)",
          security: [],
          responses: { '200': { description: 'JWKS with RSA keys for RSA-OAEP-256 / A256GCM', content: { 'application/json': { schema: { type: 'object' } } } } },
        },
      },
      ...d1InboundPaths,
      '/health/live': { get: { summary: 'Liveness', security: [], responses: { '200': { description: 'Alive' } } } },
      '/health/ready': { get: { summary: 'Readiness (broker, database, status consumer)', security: [], responses: { '200': { description: 'Ready' }, '503': { description: 'Not ready' } } } },
    },
  };
}
