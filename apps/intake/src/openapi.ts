import { z } from 'zod';
import { acceptedResponse, pismoChangePinBody, pismoIncreasePasswordTriesBody, requestStatusResponse } from './api-schemas';

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
          violations: { type: 'array', items: { type: 'object' }, description: 'Broken PIN rules (PIN_REJECTED)' },
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

const cardIdParameter = { name: 'cardId', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } };
const idempotencyKeyParameter = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  schema: { type: 'string', maxLength: 255 },
  description: 'Repeat a request safely: the same key and body return the first answer and change nothing; the same key with another body is refused (422).',
};

const writeErrors = {
  '400': problem,
  '401': problem,
  '403': problem,
  '409': problem,
  '422': problem,
  '503': problem,
};

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
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
    security: [{ bearer: [] }],
    paths: {
      '/v1/pismo/cards/{cardId}/pin': {
        post: {
          summary: "Change a Pismo card's PIN",
          description: 'Scope pin:write. The PIN is checked against Pismo\'s rules (4–6 digits) and pinflow\'s weak-PIN policy before anything is published.',
          parameters: [cardIdParameter, idempotencyKeyParameter],
          requestBody: { required: true, content: { 'application/json': { schema: schema(pismoChangePinBody) } } },
          responses: { '202': accepted, ...writeErrors },
        },
      },
      '/v1/pismo/cards/{cardId}/password-tries/increase': {
        post: {
          summary: "Increase a Pismo card's password tries counter",
          description: 'Scope pin:write. With blockCardExceedsCounter, the card is blocked when the counter reaches the program maximum.',
          parameters: [cardIdParameter, idempotencyKeyParameter],
          requestBody: { required: true, content: { 'application/json': { schema: schema(pismoIncreasePasswordTriesBody) } } },
          responses: { '202': accepted, ...writeErrors },
        },
      },
      '/v1/requests/{requestId}': {
        get: {
          summary: 'What happened to a request',
          description: 'Scope pin:read. Status accepted until a final outcome (succeeded or failed) arrives, with the events that answered it.',
          parameters: [{ name: 'requestId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
          responses: { '200': { description: 'Request status', content: { 'application/json': { schema: schema(requestStatusResponse) } } }, '400': problem, '401': problem, '403': problem, '404': problem },
        },
      },
      '/v1/pin-keys': {
        get: {
          summary: "pinflow's public PIN encryption keys (JWKS)",
          security: [],
          responses: { '200': { description: 'JWKS with RSA keys for RSA-OAEP-256 / A256GCM', content: { 'application/json': { schema: { type: 'object' } } } } },
        },
      },
      '/health/live': { get: { summary: 'Liveness', security: [], responses: { '200': { description: 'Alive' } } } },
      '/health/ready': { get: { summary: 'Readiness (broker, database, status consumer)', security: [], responses: { '200': { description: 'Ready' }, '503': { description: 'Not ready' } } } },
    },
  };
}
