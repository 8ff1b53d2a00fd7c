import type { FastifyInstance, FastifyReply, FastifyRequest, RequestPayload } from 'fastify';
import { ProblemException } from './problem';

/** Largest accepted JSON body; PIN requests are small. */
export const BODY_LIMIT_BYTES = 32 * 1024;

/** A body refused before any route ran. Its answer never quotes the body: a body may hold a PIN. */
export class BodyRefusedException extends ProblemException {}

const malformedJson = () => new BodyRefusedException(400, 'MALFORMED_JSON', 'Malformed JSON', 'The request body is not valid JSON.');
const compressed = () => new BodyRefusedException(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type', 'Request bodies must be sent uncompressed, without Content-Encoding.');
const notUtf8 = () => new BodyRefusedException(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type', 'Request bodies must be JSON encoded in UTF-8.');
const notJson = () => new BodyRefusedException(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type', 'Request bodies must be JSON (Content-Type: application/json).');

/**
 * Fastify `preParsing` hook refusing a compressed body (415) before it is read: PIN requests are
 * small, and a decompressor would let a 32 kB gzip bomb expand in memory before the size limit applies.
 */
function refuseCompressed(request: FastifyRequest, _reply: FastifyReply, payload: RequestPayload, done: (error: Error | null, payload?: RequestPayload) => void): void {
  const encoding = request.headers['content-encoding'];
  if (encoding === undefined || encoding.trim().toLowerCase() === 'identity') done(null, payload);
  else done(compressed());
}

function charsetOf(contentType: string | undefined): string | undefined {
  return /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType ?? '')?.[1];
}

function parseJsonObject(request: FastifyRequest, body: string, done: (error: Error | null, value?: unknown) => void): void {
  const charset = charsetOf(request.headers['content-type']);
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) return done(notUtf8());
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return done(malformedJson());
  }
  // Every endpoint takes an object: a bare string or number is a client's mistake, not a body.
  if (typeof value !== 'object' || value === null) return done(malformedJson());
  done(null, value);
}

/**
 * Bodies are JSON objects in UTF-8 of at most {@link BODY_LIMIT_BYTES} (Fastify's limit), uncompressed; any other media
 * type is refused (415) rather than handed to a handler as no body at all. Fastify answers a body of
 * no parser's type (text/plain, a form, none named) with 415 itself.
 */
export function acceptJsonBodiesOnly(fastify: FastifyInstance): void {
  fastify.addHook('preParsing', refuseCompressed);
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, parseJsonObject);
}

/**
 * Also takes x-www-form-urlencoded bodies of at most `limitBytes`, on the routes whose templates are
 * `paths` only (OAuth2 token requests are forms, RFC 6749 4.4.2); other routes refuse them (415).
 */
export function acceptFormsAt(fastify: FastifyInstance, paths: readonly string[], limitBytes: number): void {
  // Nest's route paths may leave out the leading slash that Fastify's templates have.
  const templates = paths.map((path) => (path.startsWith('/') ? path : `/${path}`));
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: limitBytes }, (request, body, done) => {
    if (!templates.includes(request.routeOptions.url ?? '')) return done(notJson());
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
}
