import { OPERATOR_SCOPE, PIN_READ_SCOPE } from '@pinflow/auth';
import { loadOrCreateDevSecrets, localPorts } from '@pinflow/platform';
import { repoRoot } from '@pinflow/testing';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { causeOf, describeRefusal, describeUnreachable, type ServiceEndpoint } from './ops-cli';

/** How the operator tools reach intake and audit: where (INTAKE_URL, AUDIT_URL) and as whom (PINFLOW_TOKEN). */
const STATE_DIR = path.join(repoRoot, '.pinflow');
const HTTP_TIMEOUT_MS = 10_000;

export function serviceEndpoint(name: ServiceEndpoint['name'], variable: string, app: 'intake' | 'audit'): ServiceEndpoint {
  const configured = process.env[variable];
  return {
    name,
    variable,
    baseUrl: (configured || `http://127.0.0.1:${localPorts().apps[app]}`).replace(/\/+$/, ''),
    isLocalDefault: !configured,
  };
}

/**
 * PINFLOW_TOKEN, or for npm start's stack an operator token signed with its dev key (never printed),
 * naming the local user: audit records replays under the token's subject.
 */
async function bearerToken(service: ServiceEndpoint): Promise<string> {
  const configured = process.env.PINFLOW_TOKEN;
  if (configured) return configured;
  if (!service.isLocalDefault) throw new Error(`PINFLOW_TOKEN is not set: ${service.variable} names a deployment, so bring a token its issuer signed (scopes ${PIN_READ_SCOPE} ${OPERATOR_SCOPE})`);
  if (!existsSync(path.join(STATE_DIR, 'dev-signing-key.json'))) {
    throw new Error(`no dev signing key in ${STATE_DIR}: start the local stack with \`npm start\`, or set PINFLOW_TOKEN`);
  }
  const secrets = await loadOrCreateDevSecrets(STATE_DIR);
  return secrets.token([PIN_READ_SCOPE, OPERATOR_SCOPE], { subject: `pinflow-ops:${userInfo().username}`, expiresIn: '5m' });
}

/** A service that did not answer at all (down, wrong address, timed out), as opposed to one that refused. */
export class ServiceUnreachableError extends Error {
  constructor(
    service: ServiceEndpoint,
    /** Where it was looked for and what the connection said, in a few words. */
    readonly reason: string,
    cause: unknown,
  ) {
    super(describeUnreachable(service, cause), { cause });
  }
}

export interface ServiceAnswer {
  status: number;
  body: unknown;
}

/** One request with the operator's token; only an unreachable service throws, every answer comes back. */
export async function callService(service: ServiceEndpoint, method: 'GET' | 'POST', pathAndQuery: string, body?: unknown): Promise<ServiceAnswer> {
  const token = await bearerToken(service);
  const response = await fetch(`${service.baseUrl}${pathAndQuery}`, {
    method,
    headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  }).catch((error: unknown) => {
    throw new ServiceUnreachableError(service, `${service.baseUrl}: ${causeOf(error)}`, error);
  });
  return { status: response.status, body: await response.json().catch(() => undefined) };
}

/** An answer in the shape pinflow's API gives, or an error saying what the service is not. */
export function parseAnswer<T>(service: ServiceEndpoint, body: unknown, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new Error(`${service.name} at ${service.baseUrl} answered something that is not pinflow's ${service.name} API: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** A GET that must succeed: any refusal becomes an error naming the setting to look at. */
export async function getJson<T>(service: ServiceEndpoint, pathAndQuery: string, schema: z.ZodType<T>, notFound: string): Promise<T> {
  const answer = await callService(service, 'GET', pathAndQuery);
  if (answer.status < 200 || answer.status > 299) throw new Error(describeRefusal(service, answer.status, answer.body, notFound));
  return parseAnswer(service, answer.body, schema);
}
