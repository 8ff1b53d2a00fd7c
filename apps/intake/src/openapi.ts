import { RouteContract, VENDOR_CONTRACTS, VendorContract } from '@pinflow/contracts';
import { z } from 'zod';
import { acceptedResponse, requestIdParam, requestStatusResponse } from './api-schemas';
import { pushSettlementRequest } from './d1-inbound/d1-operator.controller';
import { d1InboundPaths, d1SecurityScheme } from './d1-inbound/openapi';

/** A zod schema as an OpenAPI 3.1 schema object (JSON Schema 2020-12, the document's dialect). */
function schema(type: z.ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...jsonSchema } = z.toJSONSchema(type, { io: 'input', unrepresentable: 'any' });
  return jsonSchema;
}

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
  '403': { ...problem, description: 'TENANT_REQUIRED (with card ownership enforced: the token names no tenant), or a missing scope' },
  '404': { ...problem, description: "CARD_NOT_FOUND: with card ownership enforced, the card is not one of the caller's tenant's (the same answer whether another tenant holds it or nobody does)" },
  '409': problem,
  '413': { ...problem, description: 'PAYLOAD_TOO_LARGE: bodies are at most 32 kB' },
  '415': { ...problem, description: 'UNSUPPORTED_MEDIA_TYPE: bodies are JSON in UTF-8, without Content-Encoding' },
  '422': problem,
  '429': rateLimited,
  '503': problem,
};

/** Nest's `cards/:cardId/pin` as OpenAPI's `cards/{cardId}/pin`. */
const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

/** A vendor's write endpoint, from its contract: scope pin:write, an Idempotency-Key, 202 with a status URL. */
function write(vendor: VendorContract, route: RouteContract) {
  const bodySchema = schema(route.body);
  return {
    post: {
      operationId: `${vendor.name}.${route.operation}`,
      tags: [vendor.name],
      summary: route.summary,
      description: `Scope pin:write. ${route.description}`,
      parameters: [...Object.entries(route.params).map(([name, parameter]) => ({ name, in: 'path', required: true, schema: schema(parameter.schema) })), idempotencyKeyParameter],
      // An endpoint that takes no body takes `{}` too (emptyBody is optional).
      requestBody: { required: !route.body.safeParse(undefined).success, content: { 'application/json': { schema: bodySchema } } },
      responses: { '202': accepted, ...writeErrors },
    },
  };
}

/** intake's endpoints other than the vendors' writes, with the schemas that validate and shape them. */
const INTAKE_PATHS = {
  '/v1/requests/{requestId}': {
    get: {
      summary: 'What happened to a request',
      description:
        'Scope pin:read. Status accepted until a final outcome (succeeded or failed) arrives, with the events that answered it. Only the caller that made the request, callers of its tenant and tokens with pinflow:operator see it; to anyone else it is 404.',
      parameters: [{ name: 'requestId', in: 'path', required: true, schema: schema(requestIdParam) }],
      responses: { '200': { description: 'Request status', content: { 'application/json': { schema: schema(requestStatusResponse) } } }, '400': problem, '401': problem, '403': problem, '404': problem, '429': rateLimited },
    },
  },
  '/v1/solaris/pin-key': {
    get: {
      summary: "Solaris' current PIN encryption key (JWK)",
      description:
        'Scope pin:write. For the cardholder\'s device: encrypt {"pin":"…"} to it as a compact JWE (RSA-OAEP-256, A256CBC-HS512, kid), sign the JWE with the device-binding key, and send both to /v1/solaris/cards/{cardId}/pin.',
      responses: { '200': { description: 'RSA JWK', content: { 'application/json': { schema: { type: 'object' } } } }, '401': problem, '403': problem, '502': problem, '503': problem },
    },
  },
  '/v1/pin-keys': {
    get: {
      summary: "pinflow's public PIN encryption keys (JWKS)",
      security: [],
      responses: { '200': { description: 'JWKS with RSA keys for RSA-OAEP-256 / A256GCM', content: { 'application/json': { schema: { type: 'object' } } } } },
    },
  },
  '/v1/operator/d1/push-settlements': {
    post: {
      summary: "Settle a D1 push whose outcome is unknown, freeing its card",
      description:
        'Scope pinflow:operator. After OUTCOME_UNKNOWN a D1 push holds its card (D1 gets 409 PIN_CHANGE_IN_PROGRESS) until an operator who found out at the processor whether the PIN changed says so: succeeded moves the card\'s change counter on by one (unless a replayed push computed with the same counter succeeded meanwhile: staleChangeCounter true, the counter stays), failed leaves it. The same settlement sent again is answered as before (repeated: true). 409 D1_NO_PUSH_IN_FLIGHT, D1_ANOTHER_PUSH_IN_FLIGHT (the card holds another command) or D1_PUSH_SETTLED_OTHERWISE change nothing.',
      requestBody: { required: true, content: { 'application/json': { schema: schema(pushSettlementRequest) } } },
      responses: { '200': { description: 'The settlement: commandId, succeeded, changeCounter (after it), staleChangeCounter, settledBy, settledAt, repeated' }, '400': problem, '401': problem, '403': problem, '409': problem, '429': rateLimited },
    },
  },
  '/openapi.json': { get: { summary: 'This document', security: [], responses: { '200': { description: 'OpenAPI 3.1' } } } },
  '/health/live': { get: { summary: 'Liveness', security: [], responses: { '200': { description: 'Alive' } } } },
  '/health/ready': { get: { summary: 'Readiness (broker, database, status consumer)', security: [], responses: { '200': { description: 'Ready' }, '503': { description: 'Not ready' } } } },
};

/**
 * intake's OpenAPI 3.1 document: every vendor's write endpoints generated from its contract (routes,
 * path parameter and body schemas, descriptions), the rest from intake's own response schemas.
 */
export function openApiDocument(vendors: readonly VendorContract[] = VENDOR_CONTRACTS) {
  const vendorPaths = vendors.flatMap((vendor) => vendor.routes.map((route) => [openApiPath(`/v1/${vendor.name}/${route.path}`), write(vendor, route)] as const));
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
    paths: { ...Object.fromEntries(vendorPaths), ...INTAKE_PATHS, ...d1InboundPaths },
  };
}
