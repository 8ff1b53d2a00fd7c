import { OPERATOR_SCOPE, PIN_READ_SCOPE } from '@pinflow/auth';
import { loadOrCreateDevSecrets, localPorts } from '@pinflow/platform';
import { repoRoot } from '@pinflow/testing';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import {
  cardHistoryPage,
  describeRefusal,
  describeUnreachable,
  formatRequestStatus,
  formatTimeline,
  parseOperatorCommand,
  requestStatus,
  ServiceEndpoint,
  type AuditedEvent,
} from './ops-cli';

/**
 * The operator's command line: `npm run ops -- <command>` (see OPS_USAGE in ops-cli.ts). `dlq` and
 * `audit verify` run the tools behind `npm run dlq` and `npm run audit`; `history` and `status`
 * ask the running audit and intake services.
 */
const STATE_DIR = path.join(repoRoot, '.pinflow');
const HTTP_TIMEOUT_MS = 10_000;
/** The audit service's largest page. */
const AUDIT_PAGE_LIMIT = 200;

function endpoint(name: ServiceEndpoint['name'], variable: string, app: 'intake' | 'audit'): ServiceEndpoint {
  const configured = process.env[variable];
  return {
    name,
    variable,
    baseUrl: (configured || `http://127.0.0.1:${localPorts().apps[app]}`).replace(/\/+$/, ''),
    isLocalDefault: !configured,
  };
}

/** PINFLOW_TOKEN, or for npm start's stack an operator token signed with its dev key (never printed). */
async function bearerToken(service: ServiceEndpoint): Promise<string> {
  const configured = process.env.PINFLOW_TOKEN;
  if (configured) return configured;
  if (!service.isLocalDefault) throw new Error(`PINFLOW_TOKEN is not set: ${service.variable} names a deployment, so bring a token its issuer signed (scopes ${PIN_READ_SCOPE} ${OPERATOR_SCOPE})`);
  if (!existsSync(path.join(STATE_DIR, 'dev-signing-key.json'))) {
    throw new Error(`no dev signing key in ${STATE_DIR}: start the local stack with \`npm start\`, or set PINFLOW_TOKEN`);
  }
  const secrets = await loadOrCreateDevSecrets(STATE_DIR);
  return secrets.token([PIN_READ_SCOPE, OPERATOR_SCOPE], { subject: 'pinflow-ops', expiresIn: '5m' });
}

async function getJson<T>(service: ServiceEndpoint, pathAndQuery: string, schema: z.ZodType<T>, notFound: string): Promise<T> {
  const token = await bearerToken(service);
  const response = await fetch(`${service.baseUrl}${pathAndQuery}`, {
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  }).catch((error: unknown) => {
    throw new Error(describeUnreachable(service, error));
  });
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) throw new Error(describeRefusal(service, response.status, body, notFound));
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new Error(`${service.name} at ${service.baseUrl} answered something that is not pinflow's ${service.name} API: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** The card's newest `limit` events, pages fetched newest first, printed oldest first. */
async function history(cardId: string, limit: number): Promise<void> {
  const audit = endpoint('audit', 'AUDIT_URL', 'audit');
  const events: AuditedEvent[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: String(Math.min(AUDIT_PAGE_LIMIT, limit - events.length)) });
    if (cursor) query.set('cursor', cursor);
    const page = await getJson(audit, `/v1/cards/${encodeURIComponent(cardId)}/events?${query}`, cardHistoryPage, `audit has no history of card ${cardId}`);
    events.push(...page.events);
    cursor = page.nextCursor;
  } while (cursor && events.length < limit);
  if (events.length === 0) {
    console.log(`card ${cardId}: no events in the audit trail`);
    return;
  }
  console.log(`card ${cardId}: ${events.length} event(s)${cursor ? `, the newest ${limit} (older ones: --limit)` : ''}`);
  for (const line of formatTimeline(events.reverse())) console.log(`  ${line}`);
}

async function status(requestId: string): Promise<void> {
  const intake = endpoint('intake', 'INTAKE_URL', 'intake');
  const request = await getJson(intake, `/v1/requests/${requestId}`, requestStatus, `intake has no request ${requestId}`);
  for (const line of formatRequestStatus(request)) console.log(line);
}

/** Runs one of the existing operator tools with the operator's arguments, its output and exit code as they are. */
function runTool(script: string, args: string[]): void {
  const result = spawnSync(process.execPath, [path.join(__dirname, script), ...args], { stdio: 'inherit' });
  if (result.error) throw result.error;
  process.exitCode = result.status ?? 1;
}

async function main(): Promise<void> {
  const command = parseOperatorCommand(process.argv.slice(2));
  switch (command.command) {
    case 'dlq':
      return runTool('dlq.js', command.args);
    case 'audit':
      return runTool('audit.js', command.args);
    case 'history':
      return history(command.cardId, command.limit);
    case 'status':
      return status(command.requestId);
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
