import { cardId, COMMAND_SCHEMAS, EVENT_TYPES, PinflowEvent, Vendor } from '@pinflow/contracts';
import { describeError, HandlerVerdict, JsonProducer, MessageMeta } from '@pinflow/kafka';
import type { Logger } from '@pinflow/logging';
import { BINDING_ERROR_CODES, PinDecryptionError, type PinDecryptionErrorCode } from '@pinflow/pin-crypto';
import { traceHeaders } from '@pinflow/tracing';
import { VendorCallResult, vendorStatusOf } from '@pinflow/vendor-http';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { CallPermit, CircuitBreaker, CircuitState, DEFAULT_BREAKER_POLICY } from './circuit-breaker';
import { CommandDetails, CommandLedger, inCommandTrace, isBetweenCalls, isFinal, StoredCommand } from './command-ledger';
import { COMMAND_STATES, CommandRef, failedEvent, FailureReason, failureReasonOf, Settlement } from './outcomes';
import { backoffMs, isRetryable, isTransient, mayHaveApplied, RetryPolicy } from './retry-policy';
import { observedVendorCall, reportCircuitState, vendorCommandStates } from './worker-metrics';

/** The commands on a vendor's command topic, as its contract parses them. */
export type CommandOf<V extends Vendor> = z.output<(typeof COMMAND_SCHEMAS)[V]>;

/** One call to the vendor, with everything it needs; made once per attempt (`attempt` counts from 1). */
export type VendorCall = (attempt: number) => Promise<VendorCallResult>;

/** What the vendor says about a call of the command that timed out. */
export type OutcomeCheck =
  /** It applied the command: `result` is the answer that shows it, settled by `settle` as if the call had returned it. */
  | { outcome: 'applied'; result: VendorCallResult }
  /** It did not: the timed-out call counts as a failed attempt, and the next one is safe. */
  | { outcome: 'not_applied' }
  /** It cannot tell, or did not answer: the command fails with OUTCOME_UNKNOWN. */
  | { outcome: 'unknown' };

/** What a worker knows about its vendor; the runner does the rest. */
export interface VendorAdapter<C extends CommandRef> {
  /**
   * Readies the command's call without reaching the vendor: decrypts the secrets the call needs and
   * returns the call, so the secrets live only in that closure. A PinDecryptionError fails the command
   * with UNDECRYPTABLE_PIN, and the vendor is never called.
   */
  prepare(command: C): Promise<VendorCall>;
  /** What the last answer means: a final state and its event, or waiting for the vendor's own event. */
  settle(command: C, result: VendorCallResult): Settlement;
  /** Facts kept with the command that the vendor's later events need (never a secret). */
  details?(command: C): CommandDetails | undefined;
  /**
   * Asks the vendor whether a call of the command that timed out was applied (Thales D1: whether the
   * card's PIN change counter moved). Without it, or when it cannot tell, a timed-out call fails the
   * command with OUTCOME_UNKNOWN, since calling again could apply it twice.
   */
  checkOutcome?(command: C): Promise<OutcomeCheck>;
  /**
   * Whether the vendor's own event tells how the command ended even when the call's answer is lost
   * (Pismo: update_password-1 carries the cid the call sent). Such a command, after a timeout or a
   * crash mid-call, awaits that event rather than failing; `endOverdueWaits` ends the wait.
   */
  outcomeReportedByEvent?(command: CommandRef): boolean;
}

/** How a command came to the runner. */
export interface CommandDelivery {
  /** Put back by `npm run dlq -- replay`: a command the vendor never applied runs again. */
  replayed?: boolean;
}

/** Enough of a broken command to tell its requester that it failed. */
const identifiableCommand = z.object({
  commandId: z.uuid(),
  requestId: z.uuid(),
  cardId,
  operation: z.string().regex(/^[a-z_]{1,64}$/).catch('unknown'),
});

/** What the ledger move before a call came to: the call may go, as attempt `attempt`, or the command takes another way. */
type CallStart = { kind: 'call'; attempt: number } | Instead;
type Instead = { kind: 'instead'; go: () => Promise<HandlerVerdict | void> };

const UNREADABLE_SECRET_REASONS = new Set<FailureReason>(['UNDECRYPTABLE_PIN', 'SECRET_NOT_FOR_THIS_COMMAND', 'SECRET_EXPIRED']);

/** Why a command whose secret would not open fails: a replayed or misplaced secret is told apart from a broken one. */
function unreadableSecretReason(code: PinDecryptionErrorCode): FailureReason {
  if (code === 'EXPIRED') return 'SECRET_EXPIRED';
  return (BINDING_ERROR_CODES as readonly PinDecryptionErrorCode[]).includes(code) ? 'SECRET_NOT_FOR_THIS_COMMAND' : 'UNDECRYPTABLE_PIN';
}

/**
 * The dead letter a command that ended badly leaves for an operator: one the vendor never applied
 * (replaying it runs it again), or one whose outcome nobody knows (for a human to find out; replaying
 * it does nothing).
 */
function deadLetterOf(state: string, outcome: PinflowEvent, attempts: number): HandlerVerdict['deadLetter'] | undefined {
  if (outcome.type !== EVENT_TYPES.failed) return undefined;
  const { reason, vendorStatus } = outcome.data;
  const detail = vendorStatus === undefined ? reason : `${reason}, vendor status ${vendorStatus}`;
  if (state === COMMAND_STATES.failedRetryable) {
    return { reason: UNREADABLE_SECRET_REASONS.has(reason) ? 'UNDECRYPTABLE' : 'RETRIES_EXHAUSTED', detail, attempts };
  }
  if (reason === 'OUTCOME_UNKNOWN') return { reason: 'OUTCOME_UNKNOWN', detail, attempts };
  return undefined;
}

/** How many overdue or unpublished commands one sweep handles; the next sweep takes the rest. */
const SWEEP_BATCH = 100;

/** The settlement of a command whose every call the vendor surely did not apply: a replay may run it again. */
function replayable(settlement: Settlement): Settlement {
  if (settlement.state !== COMMAND_STATES.failed || failureReasonOf(settlement.event) === 'OUTCOME_UNKNOWN') return settlement;
  return { ...settlement, state: COMMAND_STATES.failedRetryable };
}

/**
 * Turns each command into at most one call sequence to the vendor. What happened is recorded per
 * command before and after every call, so a redelivered command never reaches the vendor again unless
 * the vendor surely applied none of its calls.
 */
export class CommandRunner<C extends CommandRef = CommandRef> {
  private readonly breaker: CircuitBreaker;

  constructor(
    private readonly adapter: VendorAdapter<C>,
    private readonly ledger: CommandLedger,
    private readonly producer: JsonProducer,
    private readonly retryPolicy: RetryPolicy,
    private readonly logger: Logger,
  ) {
    const breakerPolicy = retryPolicy.breaker ?? DEFAULT_BREAKER_POLICY;
    reportCircuitState(ledger.vendor, 'closed');
    vendorCommandStates.readFrom(ledger.vendor, () => ledger.countInProgress());
    this.breaker = new CircuitBreaker(breakerPolicy, (state, consecutiveFailures) => {
      reportCircuitState(ledger.vendor, state);
      if (state === 'open') this.logger.warn({ circuit: state, consecutiveFailures, cooldownMs: breakerPolicy.cooldownMs }, 'the vendor looks down: commands wait instead of calling it');
      else if (state === 'half-open') this.logger.info({ circuit: state }, 'probing the vendor with one call');
      else this.logger.info({ circuit: state }, 'the vendor answers again: commands call it again');
    });
  }

  /** The vendor's circuit: open while the vendor looks down, when commands wait rather than call it. */
  get circuitState(): CircuitState {
    return this.breaker.state;
  }

  /**
   * `heartbeat` keeps this consumer in its group while retries or an open circuit hold the command; it
   * is only ever called while no call of the command may be in flight. The result asks the consumer to
   * dead-letter the command too, when it failed in a way an operator should see.
   */
  async handle(command: C, heartbeat: () => Promise<void>, delivery: CommandDelivery = {}): Promise<HandlerVerdict | void> {
    const log = this.logger.child({ commandId: command.commandId, cardId: command.cardId, operation: command.operation });
    // Prepared before the claim, so a command whose secret cannot be read is never CALLING. A
    // redelivered duplicate is decrypted for nothing; a lookup before every claim cost a round trip.
    let call: VendorCall;
    try {
      call = await this.adapter.prepare(command);
    } catch (error) {
      if (!(error instanceof PinDecryptionError)) throw error;
      log.warn({ decryptionError: error.code }, 'an encrypted secret of the command cannot be decrypted');
      return this.endWithoutCall(command, log, unreadableSecretReason(error.code));
    }
    return this.run(command, call, heartbeat, log, () => this.claim(command, delivery, log));
  }

  /** A command that breaks the contract: its requester is told when the command says who that is. */
  async rejectInvalid(raw: unknown, issues: string[], meta: MessageMeta): Promise<void> {
    const ids = identifiableCommand.safeParse(raw);
    this.logger.warn(
      { topic: meta.topic, partition: meta.partition, offset: meta.offset, issues, commandId: ids.data?.commandId },
      'rejecting a command that breaks the contract',
    );
    if (ids.success) await this.producer.publishEvents([failedEvent({ ...ids.data, vendor: this.ledger.vendor }, 'INVALID_COMMAND')]);
  }

  /**
   * The first move of a delivery: a new command is claimed, and one between calls goes on with them;
   * any other known command is not called again.
   */
  private async claim(command: C, delivery: CommandDelivery, log: Logger): Promise<CallStart> {
    const claim = await this.ledger.claim(command, traceHeaders(), this.adapter.details?.(command));
    if (claim.claimed) {
      log.info('command received');
      return { kind: 'call', attempt: 1 };
    }
    const { known } = claim;
    if (isBetweenCalls(known)) {
      const why = known.state === COMMAND_STATES.retrying ? 'was between retries; retrying it' : 'was claimed but never called; calling it';
      log.info({ attempts: known.attempts }, `redelivered command ${why}`);
      return this.resumeCalling(command.commandId, known.attempts + 1, log);
    }
    if (delivery.replayed && known.state === COMMAND_STATES.failedRetryable) return this.replay(command, known, log);
    return { kind: 'instead', go: () => this.resume(known, log, delivery) };
  }

  private async replay(command: C, known: StoredCommand, log: Logger): Promise<CallStart> {
    if (await this.ledger.hasLaterCommand(known)) {
      return { kind: 'instead', go: async () => log.warn('replayed command not run again: the card got a later command, which running this one would undo') };
    }
    log.info({ attempts: known.attempts }, 'replayed command the vendor never applied: running it again');
    if (await this.ledger.reclaim(command.commandId, traceHeaders(), this.adapter.details?.(command))) return { kind: 'call', attempt: 1 };
    return { kind: 'instead', go: this.tookOver(log) };
  }

  private async resumeCalling(commandId: string, attempt: number, log: Logger): Promise<CallStart> {
    if (await this.ledger.resumeCalling(commandId)) return { kind: 'call', attempt };
    return { kind: 'instead', go: this.tookOver(log) };
  }

  /** A command whose secret cannot be decrypted ends without a call; a known one goes its known way. */
  private async endWithoutCall(command: C, log: Logger, reason: FailureReason): Promise<HandlerVerdict | void> {
    const event = failedEvent(command, reason);
    if (!(await this.ledger.recordWithoutCall(command, event))) return this.resumeKnown(command.commandId, log);
    await this.publishOutcome(command.commandId, event);
    return this.verdict(command.commandId, COMMAND_STATES.failedRetryable, event, 0);
  }

  /**
   * Calls until the vendor answers something final or the attempts run out. Only an attempt the vendor
   * surely did not apply (5xx, 429, refused, or a timeout `checkOutcome` cleared) is tried again, after
   * a backoff, with the command RETRYING meanwhile; and no attempt goes while the circuit is open.
   */
  private async run(command: C, call: VendorCall, heartbeat: () => Promise<void>, log: Logger, begin: () => Promise<CallStart>): Promise<HandlerVerdict | void> {
    for (;;) {
      const step = await this.callOnce(await this.breaker.permit(heartbeat), begin, call);
      if (step.kind === 'instead') return step.go();
      const { attempt, result } = step;
      log.info({ attempt, vendorStatus: vendorStatusOf(result), ...(result.kind === 'unreachable' ? { cause: result.cause } : {}) }, 'vendor called');
      if (mayHaveApplied(result)) {
        if (this.adapter.outcomeReportedByEvent?.(command)) {
          return this.conclude(command, { state: COMMAND_STATES.awaitingVendorEvent, correlationId: command.commandId }, attempt, log);
        }
        const check = await this.checkOutcome(command, log);
        if (check.outcome === 'applied') return this.conclude(command, this.adapter.settle(command, check.result), attempt, log);
        if (check.outcome === 'unknown') return this.conclude(command, { state: COMMAND_STATES.failed, event: failedEvent(command, 'OUTCOME_UNKNOWN') }, attempt, log);
      } else if (!isRetryable(result)) {
        return this.conclude(command, this.adapter.settle(command, result), attempt, log);
      }
      if (attempt >= this.retryPolicy.maxAttempts) return this.conclude(command, replayable(this.adapter.settle(command, result)), attempt, log);
      if (!(await this.ledger.retrying(command.commandId, vendorStatusOf(result)))) return this.settledElsewhere(log);
      await sleep(backoffMs(this.retryPolicy, attempt));
      begin = () => this.resumeCalling(command.commandId, attempt + 1, log);
    }
  }

  /** The ledger move before a call and, if it lets the call go, the call; the permit learns how it went. */
  private async callOnce(permit: CallPermit, begin: () => Promise<CallStart>, call: VendorCall): Promise<Instead | { kind: 'called'; attempt: number; result: VendorCallResult }> {
    let result: VendorCallResult | undefined;
    try {
      const start = await begin();
      if (start.kind === 'instead') return start;
      result = await observedVendorCall(this.ledger.vendor, start.attempt, call);
      return { kind: 'called', attempt: start.attempt, result };
    } finally {
      // Whatever happened, a probe must report back, or the circuit would stay half-open for good.
      this.breaker.record(permit, result === undefined ? undefined : isTransient(result));
    }
  }

  private async checkOutcome(command: C, log: Logger): Promise<OutcomeCheck> {
    if (!this.adapter.checkOutcome) return { outcome: 'unknown' };
    try {
      const check = await this.adapter.checkOutcome(command);
      log.info({ outcome: check.outcome }, 'asked the vendor whether the call that timed out was applied');
      return check;
    } catch (error) {
      log.warn({ error: describeError(error) }, 'asking the vendor whether the call that timed out was applied failed');
      return { outcome: 'unknown' };
    }
  }

  private async conclude(command: C, settlement: Settlement, attempts: number, log: Logger): Promise<HandlerVerdict | void> {
    if (settlement.state === COMMAND_STATES.awaitingVendorEvent) {
      const moved = await this.ledger.awaitVendorEvent(command.commandId, settlement.vendorStatus, settlement.correlationId);
      log.info({ vendorStatus: settlement.vendorStatus, settledByVendorEvent: !moved }, 'the vendor accepted the command; awaiting its event');
      return;
    }
    if (!(await this.ledger.finishCall(command.commandId, settlement.state, settlement.event, settlement.vendorStatus))) return this.settledElsewhere(log);
    log.info({ state: settlement.state, event: settlement.event.type, vendorStatus: settlement.vendorStatus }, 'command settled');
    await this.publishOutcome(command.commandId, settlement.event);
    return this.verdict(command.commandId, settlement.state, settlement.event, attempts);
  }

  /** The consumer's cue to dead-letter the command, if it ended so; the ledger notes it once parked. */
  private verdict(commandId: string, state: string, outcome: PinflowEvent, attempts: number): HandlerVerdict | undefined {
    const deadLetter = deadLetterOf(state, outcome, attempts);
    return deadLetter && { deadLetter, parked: () => this.ledger.markDeadLettered(commandId) };
  }

  private settledElsewhere(log: Logger): void {
    log.warn('the vendor’s own event (or another delivery) settled the command first; this answer is not published');
  }

  private tookOver(log: Logger): () => Promise<void> {
    return async () => log.info('another delivery of the command took it over');
  }

  /** Another delivery of the same command got there first (or moved its state meanwhile). */
  private async resumeKnown(commandId: string, log: Logger): Promise<HandlerVerdict | void> {
    const known = await this.ledger.find(commandId);
    if (!known) throw new Error(`command ${commandId} vanished from vendor_commands`);
    return this.resume(known, log, {});
  }

  /**
   * A command seen before, and not to be called again: at most its outcome is (re)published, and its
   * dead letter left again, in case the delivery that ended it stopped short of that.
   */
  private async resume(known: StoredCommand, log: Logger, delivery: CommandDelivery): Promise<HandlerVerdict | void> {
    if (known.state === COMMAND_STATES.calling) {
      // A worker stopped between claiming the command and recording the vendor's answer: the PIN may
      // or may not have changed, and calling again could change it twice.
      const command = { ...known, vendor: this.ledger.vendor };
      if (this.adapter.outcomeReportedByEvent?.(command)) {
        if (await this.ledger.awaitVendorEvent(known.commandId, undefined, known.correlationId ?? known.commandId)) {
          log.warn({ attempts: known.attempts }, 'redelivered command was interrupted mid-call; awaiting the vendor’s event to learn its outcome');
          return;
        }
        return this.resumeKnown(known.commandId, log);
      }
      const event = failedEvent(command, 'OUTCOME_UNKNOWN');
      if (await this.ledger.finishCall(known.commandId, COMMAND_STATES.failed, event)) {
        log.warn({ attempts: known.attempts }, 'redelivered command was interrupted mid-call; its outcome is unknown');
        await this.publishOutcome(known.commandId, event);
        return this.verdict(known.commandId, COMMAND_STATES.failed, event, known.attempts);
      }
      return this.resumeKnown(known.commandId, log);
    }
    const outcome = isFinal(known) ? (known.outcomeEvent as unknown as PinflowEvent | null) : null;
    if (outcome && known.outcomePublishedAt === null) {
      log.info({ state: known.state }, 'redelivered command: publishing its recorded outcome');
      await this.publishOutcome(known.commandId, outcome);
    } else if (delivery.replayed) {
      log.warn({ state: known.state }, 'replayed command not run again: only a command the vendor surely never applied runs twice');
    } else {
      log.info({ state: known.state }, 'redelivered command already handled; skipped');
    }
    // Parking a replayed command again would only send it round in circles.
    if (!outcome || delivery.replayed || known.deadLetteredAt !== null) return;
    return this.verdict(known.commandId, known.state, outcome, known.attempts);
  }

  /**
   * Ends the wait of commands whose vendor event is overdue (`awaitedMs` since the command started
   * waiting) with OUTCOME_UNKNOWN. Workers whose vendor settles commands by event run it periodically;
   * running it on several replicas at once is safe.
   */
  async endOverdueWaits(awaitedMs: number): Promise<void> {
    const cutoff = new Date(Date.now() - awaitedMs);
    for (const known of await this.ledger.awaitingSince(cutoff, SWEEP_BATCH)) {
      const event = failedEvent({ ...known, vendor: this.ledger.vendor }, 'OUTCOME_UNKNOWN');
      if (!(await this.ledger.stopAwaiting(known.commandId, event))) continue;
      this.logger.warn({ commandId: known.commandId, cardId: known.cardId, awaitedMs }, 'the vendor’s event about the command never came; its outcome is unknown');
      await inCommandTrace(`${this.ledger.vendor} event overdue`, known, () => this.publishOutcome(known.commandId, event));
    }
  }

  /**
   * Publishes outcomes recorded at least `unpublishedMs` ago whose publication was cut short (a crash,
   * or a broker outage that outlasted the delivery's own attempts), so an outcome never depends on its
   * command being delivered again. Every worker runs it periodically; a second copy of an event (same
   * id) is harmless to consumers, who dedupe on the event id.
   */
  async publishStranded(unpublishedMs: number): Promise<void> {
    for (const known of await this.ledger.unpublishedSince(new Date(Date.now() - unpublishedMs), SWEEP_BATCH)) {
      this.logger.warn({ commandId: known.commandId, state: known.state }, 'publishing an outcome whose publication was cut short');
      await this.publishOutcome(known.commandId, known.outcomeEvent as unknown as PinflowEvent);
    }
  }

  private async publishOutcome(commandId: string, event: PinflowEvent): Promise<void> {
    await this.producer.publishEvents([event]);
    await this.ledger.markPublished(commandId);
  }
}
