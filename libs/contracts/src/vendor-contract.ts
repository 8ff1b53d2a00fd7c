import type { PanRules, PinRules } from '@pinflow/pin-policy';
import { z } from 'zod';

/*
 * What every vendor's contract is made of. A vendor is one file in ./vendors holding a
 * {@link VendorContract}; everything that lists vendors (topics, intake's routes and OpenAPI document,
 * the Kafka request door, the AsyncAPI document) reads the registry in ./vendors/index.ts.
 */

/** A compact JWE: five base64url parts. The PIN never travels any other way. */
export const compactJwe = z
  .string()
  .max(8192)
  .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'must be a compact JWE');

export const cardId = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, _ or -');

/** What every command starts with; a vendor adds `vendor`, `operation` and its fields. */
export const commandEnvelope = {
  schemaVersion: z.literal(1),
  commandId: z.uuid(),
  requestId: z.uuid(),
  cardId,
  /** Who asked: the authenticated subject (and client, when the token names one). */
  caller: z.object({ subject: z.string().min(1), clientId: z.string().optional() }),
  issuedAt: z.iso.datetime({ offset: true }),
};

/**
 * Request bodies of intake's HTTP API. Every secret arrives encrypted to pinflow's PIN key
 * (`encrypted…`) or, where a deployment allows it, in clear over TLS — never both.
 */
export function exactlyOne(encrypted: string, clear: string): [(body: Record<string, unknown>) => boolean, { message: string; path: string[] }] {
  return [
    (body) => (body[encrypted] === undefined) !== (body[clear] === undefined),
    { message: `exactly one of ${encrypted} and ${clear} is required`, path: [encrypted] },
  ];
}

/** For a secret a request may leave out: at most one of its two forms. */
export function atMostOne(encrypted: string, clear: string): [(body: Record<string, unknown>) => boolean, { message: string; path: string[] }] {
  return [(body) => body[encrypted] === undefined || body[clear] === undefined, { message: `at most one of ${encrypted} and ${clear} may be sent`, path: [encrypted] }];
}

export const clearSecret = z.string().max(32);

/** For operations that take nothing but the card: no body, or an empty JSON object. */
export const emptyBody = z.strictObject({}).optional();

/*
 * Ids in a path end up in the vendor's URL: each is held to a strict charset, so `/`, `..`, `?`, `#`,
 * NUL, CR/LF, spaces or non-ASCII never reach a worker. The command contracts are the outer bound;
 * where one is looser, the path is tightened rather than the contract.
 */
export const cardIdParam = cardId;

/** The kinds of secret a request carries; each is sealed to pinflow's PIN key under its own name. */
export type SecretKind = 'pin' | 'passcode' | 'pan' | 'oneTimeCode';

/**
 * A secret in a request body: sent as `<command field>` (encrypted) or as `clear` (where a deployment
 * allows it). intake decrypts it, checks it against the rules given, and re-seals it into the command
 * field of the same name.
 */
export interface SecretField {
  clear: string;
  kind: SecretKind;
  pinRules?: PinRules;
  panRules?: PanRules;
  /** A secret the request may leave out (its body schema allows neither form); the command then has no such field. */
  optional?: boolean;
}

/** A path parameter: its schema, and what a validation failure calls it. */
export interface PathParameter {
  schema: z.ZodType<string>;
  label: string;
}

/**
 * One of intake's write endpoints, `POST /v1/<vendor>/<path>`, and the command it becomes:
 * `{ vendor, operation, ...path parameters, ...body }`, with each secret re-sealed.
 */
export interface RouteContract {
  operation: string;
  /** Below /v1/<vendor>/, Nest style (`cards/:cardId/pin`). */
  path: string;
  params: Record<string, PathParameter>;
  /** {@link emptyBody} for an endpoint that takes none. */
  body: z.ZodType<Record<string, unknown> | undefined>;
  secrets?: Record<string, SecretField>;
  /** For the OpenAPI document. */
  summary: string;
  description: string;
}

export interface VendorContract<Name extends string = string, Command extends z.ZodType = z.ZodType> {
  name: Name;
  /** The schema of the messages on the vendor's command topic. */
  command: Command;
  /** The PINs the vendor takes: what intake checks, and what test scenarios choose from. */
  pinRules: PinRules;
  routes: readonly RouteContract[];
}

/** Names a vendor's contract, keeping its name as a literal type. */
export function defineVendor<const Name extends string, Command extends z.ZodType>(contract: VendorContract<Name, Command>): VendorContract<Name, Command> {
  return contract;
}
