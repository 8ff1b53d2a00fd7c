import type { z } from 'zod';

/**
 * The errors the kit itself answers on vendor endpoints; a vendor's dialect gives each one the
 * vendor's shape. A sandbox's own errors use codes of its choosing.
 */
export type KitErrorCode =
  /** 401: no bearer token, or one the sandbox did not issue or that expired. */
  | 'UNAUTHORIZED'
  /** 503: the `down` knob. */
  | 'UNAVAILABLE'
  /** 500: a drilled error, or a bug. */
  | 'INTERNAL'
  /** 504: a drilled timeout. */
  | 'TIMEOUT'
  /** 400: the body is not valid JSON. */
  | 'MALFORMED_BODY'
  /** 4xx: the body could not be read for another reason (too large, wrong charset...). */
  | 'UNREADABLE_BODY'
  /** 400: the body is JSON but breaks the endpoint's schema. */
  | 'INVALID_BODY'
  /** Any other HTTP error raised by the framework. */
  | 'HTTP_ERROR';

/** OAuth2's error codes (RFC 6749 5.2) the token endpoint answers with. */
export type TokenErrorCode = 'invalid_request' | 'invalid_client' | 'unsupported_grant_type';

/** An error answer before the vendor's dialect gives it its shape. */
export interface VendorErrorInfo {
  status: number;
  code: string;
  /** Safe to send: never quotes the request. */
  message: string;
  /** The request field the error is about, when there is one. */
  field?: string;
}

/** Thrown by vendor endpoints: answered with the vendor's error body (see VendorDialect). */
export class VendorError extends Error implements VendorErrorInfo {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'VendorError';
  }
}

const TOKEN_ERROR_MESSAGES: Record<TokenErrorCode, string> = {
  invalid_request: 'The request lacks a grant_type or cannot be read',
  invalid_client: 'Client authentication failed',
  unsupported_grant_type: 'Only the client_credentials grant is supported',
};

/** An error of the token endpoint, answered with the dialect's token error body. */
export class TokenError extends VendorError {
  constructor(status: number, code: TokenErrorCode) {
    super(status, code, TOKEN_ERROR_MESSAGES[code]);
    this.name = 'TokenError';
  }
}

/** How a vendor words its errors. */
export interface VendorDialect {
  /** The body of an error answer on a vendor endpoint. */
  errorBody(error: VendorErrorInfo): object;
  /** The body of an error answer on the token endpoint; RFC 6749's `{"error": code}` unless given. */
  tokenErrorBody?(error: VendorErrorInfo): object;
  /** The vendor error a sandbox's own domain exception stands for; any other exception is a 500. */
  errorFor?(exception: unknown): VendorErrorInfo | undefined;
}

export function tokenErrorBody(dialect: VendorDialect, error: VendorErrorInfo): object {
  return dialect.tokenErrorBody ? dialect.tokenErrorBody(error) : { error: error.code };
}

/**
 * Validates a vendor request body. The 400 names the broken rules and the first field at fault, never
 * the values.
 */
export function parseVendorBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const { issues } = result.error;
  const field = issues[0].path.length > 0 ? issues[0].path.join('.') : undefined;
  throw new VendorError(400, 'INVALID_BODY', [...new Set(issues.map((issue) => issue.message))].join('; '), field);
}
