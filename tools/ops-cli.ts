import { cardId, describeOutcome } from '@pinflow/contracts';
import { parseArgs } from 'node:util';
import { z } from 'zod';

export const OPS_USAGE = `usage: npm run ops -- <command>
  dlq list | inspect [--limit N] | replay (--offset N ... | --all) [--reason R] [--force]
                          dead letters on KAFKA_BROKERS (default: npm start's broker), replayed
                          and their replays read through audit (AUDIT_URL), which records each
  history <cardId> [--limit N]
                          a card's audit trail, oldest first (AUDIT_URL, default: npm start's audit)
  status <requestId>      a request's status and events (INTAKE_URL, default: npm start's intake)
  d1-settle <issuerId> <cardId> --command <commandId> (--succeeded | --failed)
                          settle a Thales D1 push whose outcome was unknown, once you found out at the
                          processor whether the PIN changed: the card's change counter moves on by one
                          (--succeeded) or stays (--failed), and D1 may push to the card again (INTAKE_URL)
  audit verify            check DATABASE_URL's audit hash chains; exit 1 on any tampered row
dlq, history, status and d1-settle send PINFLOW_TOKEN, or against npm start's stack an operator token from .pinflow's dev key.`;

/** The most events `history` shows unless told otherwise: a screenful, newest kept. */
const DEFAULT_HISTORY_LIMIT = 50;

const operatorCommand = z.discriminatedUnion('command', [
  z.object({ command: z.literal('dlq'), args: z.array(z.string()) }),
  z.object({ command: z.literal('audit'), args: z.array(z.string()) }),
  z.object({ command: z.literal('history'), cardId, limit: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_HISTORY_LIMIT) }),
  z.object({ command: z.literal('status'), requestId: z.uuid({ error: 'must be a request id (UUID)' }) }),
  z.object({
    command: z.literal('d1-settle'),
    issuerId: z.string({ error: 'required' }).regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be letters, digits, _ or -'),
    cardId,
    commandId: z.uuid({ error: 'must be the command id (UUID) of the push, as its dead letter names it' }),
    succeeded: z.boolean({ error: 'say what the processor did: --succeeded or --failed, one of them' }),
  }),
]);
export type OperatorCommand = z.output<typeof operatorCommand>;

/** What the operator typed, checked; a mistake comes back as one line naming the argument, then the usage. */
export function parseOperatorCommand(argv: readonly string[]): OperatorCommand {
  const [command, ...rest] = argv;
  // dlq and audit keep their own flags: hand them over untouched.
  if (command === 'dlq' || command === 'audit') return { command, args: rest };
  if (command !== 'history' && command !== 'status' && command !== 'd1-settle') throw new Error(`${command ? `unknown command ${command}` : 'no command'}\n${OPS_USAGE}`);
  const { positionals, values } = parseCommandArgs(command, rest);
  const [expectedPositionals, expectedInWords] = command === 'd1-settle' ? [2, 'two arguments'] : [1, 'one argument'];
  const candidate =
    command === 'history'
      ? { command, cardId: positionals[0], limit: values.limit }
      : command === 'status'
        ? { command, requestId: positionals[0] }
        : { command, issuerId: positionals[0], cardId: positionals[1], commandId: values.command, succeeded: settlementDecision(values.succeeded, values.failed) };
  const parsed = operatorCommand.safeParse(candidate);
  if (parsed.success && positionals.length === expectedPositionals) return parsed.data;
  const problems = parsed.success
    ? [`${command} takes ${expectedInWords}, got ${positionals.length}`]
    : parsed.error.issues.map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message));
  throw new Error(`${problems.join('; ')}\n${OPS_USAGE}`);
}

/** Each command's flags: any other is refused. */
const COMMAND_OPTIONS = {
  history: { limit: { type: 'string' } },
  status: {},
  'd1-settle': { command: { type: 'string' }, succeeded: { type: 'boolean' }, failed: { type: 'boolean' } },
} as const;

function parseCommandArgs(command: keyof typeof COMMAND_OPTIONS, args: string[]) {
  try {
    const { positionals, values } = parseArgs({ args, allowPositionals: true, options: COMMAND_OPTIONS[command] });
    return { positionals, values: values as { limit?: string; command?: string; succeeded?: boolean; failed?: boolean } };
  } catch (error) {
    throw new Error(`${command}: ${(error as Error).message}\n${OPS_USAGE}`, { cause: error });
  }
}

/** --succeeded or --failed, exactly one: the operator's finding is never a default. */
function settlementDecision(succeeded: boolean | undefined, failed: boolean | undefined): boolean | undefined {
  return succeeded === failed ? undefined : succeeded === true;
}

/** The fields of an event an operator reads; anything else the data holds is never printed. */
const timelineFields = z.looseObject({
  vendor: z.string().optional(),
  operation: z.string().optional(),
  requestId: z.string().optional(),
});

export const auditedEvent = z.object({ id: z.string(), type: z.string(), time: z.string(), data: z.unknown() });
export type AuditedEvent = z.output<typeof auditedEvent>;

const SHORT_TYPE = /^pinflow\./;

/** One line per event, in the order given: time, type, vendor, operation, request, outcome or reason. */
export function formatTimeline(events: readonly AuditedEvent[]): string[] {
  return events.map((event) => {
    const parsed = timelineFields.safeParse(event.data);
    const fields = parsed.success ? parsed.data : {};
    return [
      event.time.padEnd(24),
      event.type.replace(SHORT_TYPE, '').padEnd(38),
      (fields.vendor ?? '-').padEnd(9),
      (fields.operation ?? '-').padEnd(24),
      (fields.requestId ? `request ${fields.requestId}` : 'request -').padEnd(44),
      describeOutcome(event.type, event.data).text,
    ].join(' ');
  });
}

export const cardHistoryPage = z.object({ cardId: z.string(), events: z.array(auditedEvent), nextCursor: z.string().nullable() });

export const requestStatus = z.object({
  requestId: z.string(),
  status: z.string(),
  vendor: z.string(),
  operation: z.string(),
  cardId: z.string(),
  acceptedAt: z.string(),
  completedAt: z.string().nullable(),
  events: z.array(auditedEvent),
});

export function formatRequestStatus(request: z.output<typeof requestStatus>): string[] {
  return [
    `request ${request.requestId}: ${request.status}`,
    `  ${request.vendor} ${request.operation} on card ${request.cardId}, accepted ${request.acceptedAt}` +
      (request.completedAt ? `, completed ${request.completedAt}` : ', not completed yet'),
    ...formatTimeline(request.events).map((line) => `  ${line}`),
  ];
}

/** A service ops talks to: where it is, and where that came from, for error messages that say what to change. */
export interface ServiceEndpoint {
  name: 'intake' | 'audit';
  baseUrl: string;
  /** The variable that moves it (INTAKE_URL, AUDIT_URL). */
  variable: string;
  /** Whether baseUrl is npm start's default rather than the variable's value. */
  isLocalDefault: boolean;
}

const problemDocument = z.looseObject({ code: z.string().optional(), title: z.string().optional(), detail: z.string().optional() });

/** Why a service refused, in the operator's terms: which setting to look at. */
export function describeRefusal(endpoint: ServiceEndpoint, status: number, body: unknown, notFound: string): string {
  const problem = problemDocument.safeParse(body);
  const said = problem.success ? [problem.data.code, problem.data.detail ?? problem.data.title].filter(Boolean).join(': ') : '';
  switch (status) {
    case 401:
      return `${endpoint.name} refused the token (401${said ? `, ${said}` : ''}): set PINFLOW_TOKEN to a current token from the issuer ${endpoint.name} trusts`;
    case 403:
      return `${endpoint.name} refused the token (403${said ? `, ${said}` : ''}): it needs the scopes pin:read and pinflow:operator`;
    case 404:
      return `${notFound} (404): no such id, or none this token may see`;
    default:
      return `${endpoint.name} answered ${status}${said ? ` (${said})` : ''}`;
  }
}

/** What a failed connection said: fetch's own message is only "fetch failed", its cause the reason. */
export function causeOf(error: unknown): string {
  return error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
}

export function describeUnreachable(endpoint: ServiceEndpoint, error: unknown): string {
  const cause = causeOf(error);
  return (
    `cannot reach ${endpoint.name} at ${endpoint.baseUrl} (${endpoint.variable}${endpoint.isLocalDefault ? `, default npm start's ${endpoint.name}` : ''}): ${cause}; ` +
    `start it with \`npm start\`, or set ${endpoint.variable}`
  );
}

export const pushSettlement = z.object({
  commandId: z.string(),
  succeeded: z.boolean(),
  changeCounter: z.number(),
  // Absent from an intake that predates it, which never left a success uncounted.
  staleChangeCounter: z.boolean().default(false),
  settledBy: z.string(),
  settledAt: z.string(),
  repeated: z.boolean(),
});

/** What a settlement did, in one line: a repeat says so rather than claiming to have changed anything. */
export function formatPushSettlement(issuerId: string, cardId: string, settlement: z.output<typeof pushSettlement>): string {
  const decision = settlement.succeeded ? 'succeeded' : 'failed';
  const what = settlement.repeated ? `was already settled as ${decision} by ${settlement.settledBy} at ${settlement.settledAt}` : `settled as ${decision}`;
  const counter = settlement.staleChangeCounter
    ? `change counter left at ${settlement.changeCounter}, as another push computed with the same counter succeeded first (this push's block was stale)`
    : `change counter ${settlement.changeCounter}`;
  return `D1 push ${settlement.commandId} to card ${cardId} of issuer ${issuerId} ${what}: ${counter}, card free`;
}
