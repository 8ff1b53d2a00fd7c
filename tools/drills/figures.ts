import { EVENT_TYPES, TERMINAL_EVENT_TYPES } from '@pinflow/contracts';
import { DEAD_LETTER_HEADERS, DEAD_LETTER_TOPIC } from '@pinflow/kafka';
import { KAFKA_ADMIN_PRINCIPAL, vendorPlatform, type VendorName } from '@pinflow/platform';
import { TopicRecorder, waitFor } from '@pinflow/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DrillEnvironment } from './environment';
import type { SentCommand } from './stream';

/** A terminal outcome as the audit trail recorded it. */
export interface OutcomeRow {
  requestId: string;
  type: string;
  reason: string | null;
  recordedAt: number;
}

/** Applied changes per sandbox key (each vendor's platform says which: the command id, the card, or something of the request). */
export type AppliedCounts = Map<VendorName, Map<string, number>>;

/** The terminal outcomes the audit trail holds for these requests. */
export async function terminalOutcomes(env: DrillEnvironment, requestIds: string[]): Promise<OutcomeRow[]> {
  const { rows } = await env.db.query<{ request_id: string; type: string; reason: string | null; recorded_at: Date }>(
    `SELECT request_id, type, data->>'reason' AS reason, recorded_at FROM audit_events WHERE request_id = ANY($1::text[]) AND type = ANY($2::text[])`,
    [requestIds, [...TERMINAL_EVENT_TYPES]],
  );
  return rows.map((row) => ({ requestId: row.request_id, type: row.type, reason: row.reason, recordedAt: row.recorded_at.getTime() }));
}

/**
 * Waits until every accepted request has a terminal outcome or `windowMs` has passed, then `quietMs`
 * more, so that a second outcome arriving late is counted too. Reads again after a failed read (the
 * database may be the thing that is recovering).
 */
export async function awaitOutcomes(env: DrillEnvironment, requestIds: string[], windowMs: number, quietMs: number): Promise<OutcomeRow[]> {
  const deadline = Date.now() + windowMs;
  while (Date.now() < deadline) {
    const rows = await terminalOutcomes(env, requestIds).catch(() => undefined);
    if (rows && new Set(rows.map((row) => row.requestId)).size >= requestIds.length) break;
    await sleep(1_000);
  }
  await sleep(quietMs);
  return waitFor('the audit trail', () => terminalOutcomes(env, requestIds), 60_000, 1_000);
}

/** The command id intake gave each request: the correlation id Pismo and Thales D1 receive. */
export async function commandIds(env: DrillEnvironment, requestIds: string[]): Promise<Map<string, string>> {
  const { rows } = await env.db.query<{ id: string; command_id: string }>('SELECT id, command_id FROM intake_requests WHERE id = ANY($1::uuid[])', [requestIds]);
  return new Map(rows.map((row) => [row.id, row.command_id]));
}

/** What the worker's ledger says about each command: its state and whether its outcome left, for a lost request's trail. */
export async function ledgerStates(env: DrillEnvironment, commandIds: string[]): Promise<Map<string, string>> {
  const { rows } = await env.db.query<{ command_id: string; state: string; outcome_published_at: Date | null }>(
    'SELECT command_id, state, outcome_published_at FROM vendor_commands WHERE command_id = ANY($1::uuid[])',
    [commandIds],
  );
  const time = (at: Date) => at.toISOString().slice(11, 23);
  return new Map(rows.map((row) => [row.command_id, `${row.state}, outcome ${row.outcome_published_at ? `published at ${time(row.outcome_published_at)}` : 'unpublished'}`]));
}

/** Each sandbox's own record of what it applied. */
export async function appliedCounts(env: DrillEnvironment): Promise<AppliedCounts> {
  const counts: AppliedCounts = new Map();
  for (const vendor of env.vendors) {
    const answer = await env.sandbox(vendor).call('GET', '/sandbox/applied');
    if (answer.status !== 200) throw new Error(`sandbox-${vendor} did not show what it applied: ${answer.status}`);
    const records = answer.body as Record<string, Record<string, number>>;
    counts.set(vendor, new Map(Object.entries(records).map(([key, operations]) => [key, operations[vendorPlatform(vendor).applied.operation] ?? 0])));
  }
  return counts;
}

/** The key a request's change is counted under in its sandbox's records. */
export function appliedKey(sent: SentCommand, commandId: string | undefined): string | undefined {
  const { key } = vendorPlatform(sent.vendor).applied;
  return key === 'commandId' ? commandId : key === 'cardId' ? sent.cardId : sent.requestKey;
}

/** Dead letters parked since `since`, by the reason in their header. */
export async function deadLettersSince(env: DrillEnvironment, since: number): Promise<Record<string, number>> {
  const admin = env.kafkaAdmin().admin();
  await admin.connect();
  let total = 0;
  try {
    if (!(await admin.listTopics()).includes(DEAD_LETTER_TOPIC)) return {};
    const offsets = await admin.fetchTopicOffsets(DEAD_LETTER_TOPIC);
    total = offsets.reduce((sum, partition) => sum + Number(partition.high) - Number(partition.low), 0);
  } finally {
    await admin.disconnect();
  }
  if (total === 0) return {};
  const { ssl, sasl } = env.cluster.clientConfig(KAFKA_ADMIN_PRINCIPAL);
  const recorder = await new TopicRecorder(env.cluster.brokers, [DEAD_LETTER_TOPIC], { ssl, sasl }).start();
  try {
    await waitFor('every dead letter', async () => recorder.messages.length >= total, 60_000, 250);
  } finally {
    await recorder.stop();
  }
  const byReason: Record<string, number> = {};
  for (const letter of recorder.messages) {
    if (Date.parse(letter.headers[DEAD_LETTER_HEADERS.at] ?? '') < since) continue;
    const reason = letter.headers[DEAD_LETTER_HEADERS.reason] ?? 'unknown';
    byReason[reason] = (byReason[reason] ?? 0) + 1;
  }
  return byReason;
}

/** A terminal outcome in a few words: `changed`, `tries_increased`, `failed:OUTCOME_UNKNOWN`. */
export function outcomeLabel(row: Pick<OutcomeRow, 'type' | 'reason'>): string {
  if (row.type === EVENT_TYPES.failed) return `failed:${row.reason ?? '?'}`;
  if (row.type === EVENT_TYPES.passwordChanged) return 'changed';
  return 'tries_increased';
}

export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
