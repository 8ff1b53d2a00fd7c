import { EVENT_TYPES } from '@pinflow/contracts';
import type { VendorName } from '@pinflow/platform';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DrillEnvironment } from './environment';
import { AppliedCounts, appliedCounts, appliedKey, awaitOutcomes, commandIds, deadLettersSince, ledgerStates, OutcomeRow, outcomeLabel, percentile } from './figures';
import type { Scenario } from './scenarios';
import { planStream, seedCards, SentCommand, sendStream } from './stream';

export interface DrillOptions {
  /** PIN changes in the stream, spread round robin over the environment's vendors. */
  commands: number;
  /** Changes per second the stream aims at; it goes slower when needed to span the fault with margins. */
  ratePerSecond: number;
  /** How long to wait for every outcome once the fault is repaired and the stream is sent. */
  recoveryWindowMs: number;
  /** Extra wait after the last outcome arrived, to catch a second outcome arriving late. */
  quietMs: number;
  log?: (line: string) => void;
}

/** What a drill measured. Times are seconds; the fault's are counted from the start of the stream. */
export interface DrillResult {
  scenario: { id: number; name: string; fault: string };
  vendors: readonly VendorName[];
  stream: { commands: number; seconds: number; ratePerSecond: number };
  faultSeconds: { start: number; end: number };
  accepted: number;
  /** Of those, accepted between the fault's injection and its repair. */
  acceptedDuringFault: number;
  /** Never accepted, after a minute of retries with the same Idempotency-Key; by the last answer. */
  refused: Record<string, number>;
  /** Of those, the ones whose attempts (first try to last answer) never overlapped the fault: what the fault does not explain. */
  refusedOutsideFault: number;
  acceptLatencyMs: { p50: number | null; p99: number | null; max: number | null };
  /** Accepted requests by how many terminal outcome events the audit trail holds for them. */
  terminalOutcomes: { none: number; one: number; many: number };
  /** Accepted, and without a terminal outcome when the recovery window closed. */
  lost: number;
  /** Changes a sandbox applied more than once, by its own records. */
  appliedTwice: number;
  /** The outcome contradicts the sandbox: failed (not OUTCOME_UNKNOWN) although applied, or succeeded although not. */
  wrongOutcome: { failedButApplied: number; succeededButNotApplied: number };
  /** Accepted requests by vendor and first terminal outcome. */
  outcomes: Partial<Record<VendorName, Record<string, number>>>;
  /** Requests whose outcome was OUTCOME_UNKNOWN, by what the sandbox says really happened. */
  unknownOutcomes: { applied: number; notApplied: number };
  /** The sequences of outcomes of requests with more than one. */
  manyOutcomes: Record<string, number>;
  deadLetters: Record<string, number>;
  /** From the repair of the fault to the last terminal outcome, and until everything accepted before the repair had one. */
  recoverySeconds: { lastOutcome: number | null; backlogDrained: number | null };
  /** A few requests per finding (lost, many, appliedTwice, failedButApplied, succeededButNotApplied, refusedOutsideFault), to look up in the logs. */
  examples: Record<string, string[]>;
  /** Lost 0, applied twice 0, exactly one terminal outcome per accepted request. */
  passed: boolean;
}

/** On either side of the fault, the stream runs at least this long. */
const MARGIN_MS = 10_000;
const EXAMPLES = 5;

const seconds = (ms: number) => Math.round(ms / 100) / 10;

/**
 * The refused requests a fault cannot explain: tried first after its repair, or given up on before
 * its injection. A client retries for a minute, so a request sent up to a minute before the fault may
 * still meet it and count as refused during it.
 */
export function refusedOutside(sent: readonly SentCommand[], fault: { start: number; end: number }): SentCommand[] {
  return sent.filter((command) => command.refused !== undefined && (command.sentAt > fault.end || (command.refusedAt ?? command.sentAt) < fault.start));
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/**
 * One drill: a steady stream of PIN changes with the scenario's fault in its middle, then the figures
 * once every accepted change has an outcome (or the recovery window closed).
 */
export async function runDrill(env: DrillEnvironment, scenario: Scenario, options: DrillOptions): Promise<DrillResult> {
  const log = (line: string) => options.log?.(`[drill ${scenario.id} ${scenario.name}] ${line}`);
  await env.reset();
  const planned = planStream(env, scenario.id, options.commands);
  await seedCards(env, planned);
  const outageMs = scenario.faultMs + scenario.repairMs;
  const streamMs = Math.max((options.commands / options.ratePerSecond) * 1000, outageMs + 2 * MARGIN_MS);
  const faultAtMs = (streamMs - outageMs) / 2;
  log(`${options.commands} changes over ${seconds(streamMs)} s to ${env.vendors.join(', ')}; fault at +${seconds(faultAtMs)} s: ${scenario.fault}`);

  const started = Date.now();
  let faultStart = Number.NaN;
  let faultEnd = Number.NaN;
  const fault = (async () => {
    await sleep(faultAtMs);
    faultStart = Date.now();
    log('fault injected');
    await scenario.inject(env);
    faultEnd = Date.now();
    log(`fault repaired after ${seconds(faultEnd - faultStart)} s`);
  })();
  const [stream, repair] = await Promise.allSettled([sendStream(env, planned, streamMs), fault]);
  if (repair.status === 'rejected') throw repair.reason;
  if (stream.status === 'rejected') throw stream.reason;
  const sent = stream.value;
  const accepted = sent.filter((command) => command.requestId !== undefined);
  const requestIds = accepted.map((command) => command.requestId!);
  log(`stream sent: ${accepted.length} accepted, ${sent.length - accepted.length} refused; waiting for outcomes`);

  const rows = await awaitOutcomes(env, requestIds, options.recoveryWindowMs, options.quietMs);
  const [ids, applied, deadLetters] = await Promise.all([commandIds(env, requestIds), appliedCounts(env), deadLettersSince(env, started)]);
  const ledger = await ledgerStates(env, [...ids.values()]);
  const result = judge({ scenario, vendors: env.vendors, sent, rows, ids, applied, ledger, deadLetters, timeline: { started, streamMs, faultStart, faultEnd } });
  log(`${result.passed ? 'passed' : 'FAILED'}: lost ${result.lost}, outcomes 0/1/>1 ${result.terminalOutcomes.none}/${result.terminalOutcomes.one}/${result.terminalOutcomes.many}, applied twice ${result.appliedTwice}`);
  return result;
}

/** What a drill collected: the requests it sent, their outcomes in the audit trail, the sandboxes' records, the dead letters. */
interface Collected {
  scenario: Scenario;
  vendors: readonly VendorName[];
  sent: SentCommand[];
  rows: OutcomeRow[];
  ids: Map<string, string>;
  applied: AppliedCounts;
  /** The worker's ledger entry of each command id: where a lost request's trail ends. */
  ledger: Map<string, string>;
  deadLetters: Record<string, number>;
  /** Epoch milliseconds; `streamMs` is a duration. */
  timeline: { started: number; streamMs: number; faultStart: number; faultEnd: number };
}

/** The figures, from what the drill collected. */
function judge({ scenario, vendors, sent, rows, ids, applied, ledger, deadLetters, timeline }: Collected): DrillResult {
  const { started, streamMs, faultStart, faultEnd } = timeline;
  const accepted = sent.filter((command) => command.requestId !== undefined);
  const traces = accepted.map((command) => {
    const commandId = ids.get(command.requestId!);
    const key = appliedKey(command, commandId);
    return { command, commandId, key, applied: key === undefined ? 0 : (applied.get(command.vendor)?.get(key) ?? 0), outcomes: [] as OutcomeRow[] };
  });
  type Trace = (typeof traces)[number];
  const traceOf = new Map(traces.map((trace) => [trace.command.requestId!, trace]));
  for (const row of [...rows].sort((a, b) => a.recordedAt - b.recordedAt)) traceOf.get(row.requestId)?.outcomes.push(row);
  /** A request as the logs know it: the workers log command and card ids. */
  const describe = (trace: Trace) => {
    const outcomes = trace.outcomes.map((row) => `${outcomeLabel(row)} at ${new Date(row.recordedAt).toISOString().slice(11, 23)}`);
    const worker = (trace.commandId && ledger.get(trace.commandId)) ?? 'never reached the worker';
    return `request ${trace.command.requestId} (${trace.command.vendor}, card ${trace.command.cardId}, command ${trace.commandId}): applied ${trace.applied}x; worker ${worker}; outcomes ${outcomes.join(', ') || 'none'}`;
  };

  const lost = traces.filter((trace) => trace.outcomes.length === 0);
  const many = traces.filter((trace) => trace.outcomes.length > 1);
  const succeeded = (trace: Trace) => trace.outcomes.some((row) => row.type !== EVENT_TYPES.failed);
  const unknownOutcome = (trace: Trace) => !succeeded(trace) && trace.outcomes.some((row) => row.reason === 'OUTCOME_UNKNOWN');
  const failedButApplied = traces.filter((trace) => trace.outcomes.length > 0 && !succeeded(trace) && !unknownOutcome(trace) && trace.applied > 0);
  const succeededButNotApplied = traces.filter((trace) => succeeded(trace) && trace.applied === 0);
  const unknown = traces.filter(unknownOutcome);
  const traceOfKey = new Map(traces.map((trace) => [`${trace.command.vendor}/${trace.key}`, trace]));
  const twice = [...applied].flatMap(([vendor, counts]) =>
    [...counts]
      .filter(([, times]) => times > 1)
      .map(([key, times]) => {
        const trace = traceOfKey.get(`${vendor}/${key}`);
        return trace ? describe(trace) : `${vendor} key ${key}, of no request of this drill: applied ${times}x`;
      }),
  );

  const outcomesOf = (vendor: VendorName) => countBy(traces.filter((trace) => trace.command.vendor === vendor).flatMap((trace) => trace.outcomes.slice(0, 1).map(outcomeLabel)));
  const lastOutcomeAt = rows.length > 0 ? Math.max(...rows.map((row) => row.recordedAt)) : Number.NaN;
  const backlog = traces.filter((trace) => trace.command.acceptedAt! <= faultEnd).map((trace) => trace.outcomes[0]);
  const latencies = accepted.map((command) => command.acceptLatencyMs!).sort((a, b) => a - b);
  const unexplained = refusedOutside(sent, { start: faultStart, end: faultEnd });
  const describeRefusal = (command: SentCommand) =>
    `${command.vendor} card ${command.cardId}: first tried at +${seconds(command.sentAt - started)} s, refused at +${seconds(command.refusedAt! - started)} s after ${command.attempts} attempts: ${command.refused}`;
  const examples = {
    lost: lost.map(describe),
    many: many.map(describe),
    appliedTwice: twice,
    failedButApplied: failedButApplied.map(describe),
    succeededButNotApplied: succeededButNotApplied.map(describe),
    refusedOutsideFault: unexplained.map(describeRefusal),
  };

  const none = lost.length;
  return {
    scenario: { id: scenario.id, name: scenario.name, fault: scenario.fault },
    vendors,
    stream: { commands: sent.length, seconds: seconds(streamMs), ratePerSecond: Math.round((sent.length / streamMs) * 10_000) / 10 },
    faultSeconds: { start: seconds(faultStart - started), end: seconds(faultEnd - started) },
    accepted: accepted.length,
    acceptedDuringFault: accepted.filter((command) => command.acceptedAt! >= faultStart && command.acceptedAt! <= faultEnd).length,
    refused: countBy(sent.filter((command) => command.refused !== undefined).map((command) => command.refused!)),
    refusedOutsideFault: unexplained.length,
    acceptLatencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? null },
    terminalOutcomes: { none, one: accepted.length - none - many.length, many: many.length },
    lost: none,
    appliedTwice: twice.length,
    wrongOutcome: { failedButApplied: failedButApplied.length, succeededButNotApplied: succeededButNotApplied.length },
    outcomes: Object.fromEntries(vendors.map((vendor) => [vendor, outcomesOf(vendor)])),
    unknownOutcomes: { applied: unknown.filter((trace) => trace.applied > 0).length, notApplied: unknown.filter((trace) => trace.applied === 0).length },
    manyOutcomes: countBy(many.map((trace) => trace.outcomes.map(outcomeLabel).join(' + '))),
    deadLetters,
    recoverySeconds: {
      lastOutcome: Number.isNaN(lastOutcomeAt) ? null : seconds(lastOutcomeAt - faultEnd),
      backlogDrained: backlog.some((row) => row === undefined) ? null : seconds(Math.max(faultEnd, ...backlog.map((row) => row!.recordedAt)) - faultEnd),
    },
    examples: Object.fromEntries(
      Object.entries(examples)
        .filter(([, found]) => found.length > 0)
        .map(([finding, found]) => [finding, found.slice(0, EXAMPLES)]),
    ),
    passed: accepted.length > 0 && none === 0 && many.length === 0 && twice.length === 0,
  };
}
