import { cardId, COMMAND_SCHEMAS, PinflowEvent, Vendor } from '@pinflow/contracts';
import type { JsonProducer, MessageMeta } from '@pinflow/kafka';
import type { Logger } from '@pinflow/logging';
import { PinDecryptionError } from '@pinflow/pin-crypto';
import { z } from 'zod';
import { CommandDetails, CommandLedger, isFinal, StoredCommand } from './command-ledger';
import { COMMAND_STATES, CommandRef, failedEvent, Settlement } from './outcomes';
import { callWithRetries, RetryPolicy } from './retry-policy';
import { VendorCallResult, vendorStatusOf } from '@pinflow/vendor-http';

/** The commands on a vendor's command topic, as its contract parses them. */
export type CommandOf<V extends Vendor> = z.output<(typeof COMMAND_SCHEMAS)[V]>;

/** One call to the vendor, with everything it needs; made once per attempt (`attempt` counts from 1). */
export type VendorCall = (attempt: number) => Promise<VendorCallResult>;

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
}

/** Enough of a broken command to tell its requester that it failed. */
const identifiableCommand = z.object({
  commandId: z.uuid(),
  requestId: z.uuid(),
  cardId,
  operation: z.string().regex(/^[a-z_]{1,64}$/).catch('unknown'),
});

/**
 * Turns each command into at most one call sequence to the vendor. What happened is recorded per
 * command before and after the call, so a redelivered command never reaches the vendor again.
 */
export class CommandRunner<C extends CommandRef = CommandRef> {
  constructor(
    private readonly adapter: VendorAdapter<C>,
    private readonly ledger: CommandLedger,
    private readonly producer: JsonProducer,
    private readonly retryPolicy: RetryPolicy,
    private readonly logger: Logger,
  ) {}

  /**
   * `heartbeat` keeps this consumer in its group while retries wait out a slow vendor; without it a
   * rebalance would hand the command, mid-call, to another worker.
   */
  async handle(command: C, heartbeat: () => Promise<void>): Promise<void> {
    const log = this.logger.child({ commandId: command.commandId, cardId: command.cardId, operation: command.operation });
    const known = await this.ledger.find(command.commandId);
    if (known) return this.resume(known, log);
    log.info('command received');
    let call: VendorCall;
    try {
      call = await this.adapter.prepare(command);
    } catch (error) {
      if (!(error instanceof PinDecryptionError)) throw error;
      log.warn({ decryptionError: error.code }, 'an encrypted secret of the command cannot be decrypted');
      const event = failedEvent(command, 'UNDECRYPTABLE_PIN');
      if (!(await this.ledger.recordWithoutCall(command, event))) return this.resumeKnown(command.commandId, log);
      return this.publishOutcome(command.commandId, event);
    }
    if (!(await this.ledger.claim(command, this.adapter.details?.(command)))) return this.resumeKnown(command.commandId, log);
    const { result } = await callWithRetries(async (attempt) => {
      await heartbeat();
      await this.ledger.countAttempt(command.commandId);
      const outcome = await call(attempt);
      log.info({ attempt, vendorStatus: vendorStatusOf(outcome), ...(outcome.kind === 'unreachable' ? { cause: outcome.cause } : {}) }, 'vendor called');
      return outcome;
    }, this.retryPolicy);
    return this.settle(command, result, log);
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

  private async settle(command: C, result: VendorCallResult, log: Logger): Promise<void> {
    const settlement = this.adapter.settle(command, result);
    if (settlement.state === COMMAND_STATES.awaitingVendorEvent) {
      const moved = await this.ledger.awaitVendorEvent(command.commandId, settlement.vendorStatus, settlement.correlationId);
      log.info({ vendorStatus: settlement.vendorStatus, settledByVendorEvent: !moved }, 'the vendor accepted the command; awaiting its event');
      return;
    }
    if (!(await this.ledger.finishCall(command.commandId, settlement.state, settlement.event, settlement.vendorStatus))) {
      log.warn({ vendorStatus: settlement.vendorStatus }, 'the vendor’s own event settled the command first; its answer is not republished');
      return;
    }
    log.info({ state: settlement.state, event: settlement.event.type, vendorStatus: settlement.vendorStatus }, 'command settled');
    return this.publishOutcome(command.commandId, settlement.event);
  }

  /** Another delivery of the same command got there first (or moved its state meanwhile). */
  private async resumeKnown(commandId: string, log: Logger): Promise<void> {
    const known = await this.ledger.find(commandId);
    if (!known) throw new Error(`command ${commandId} vanished from vendor_commands`);
    return this.resume(known, log);
  }

  /** A command seen before: the vendor is never called again; at most its outcome is (re)published. */
  private async resume(known: StoredCommand, log: Logger): Promise<void> {
    if (known.state === COMMAND_STATES.calling) {
      // A worker stopped between claiming the command and recording the vendor's answer: the PIN may
      // or may not have changed, and calling again could change it twice.
      const event = failedEvent({ ...known, vendor: this.ledger.vendor }, 'OUTCOME_UNKNOWN');
      if (await this.ledger.finishCall(known.commandId, COMMAND_STATES.failed, event)) {
        log.warn({ attempts: known.attempts }, 'redelivered command was interrupted mid-call; its outcome is unknown');
        return this.publishOutcome(known.commandId, event);
      }
      return this.resumeKnown(known.commandId, log);
    }
    if (isFinal(known) && known.outcomeEvent !== null && known.outcomePublishedAt === null) {
      log.info({ state: known.state }, 'redelivered command: publishing its recorded outcome');
      return this.publishOutcome(known.commandId, known.outcomeEvent as unknown as PinflowEvent);
    }
    log.info({ state: known.state }, 'redelivered command already handled; skipped');
  }

  private async publishOutcome(commandId: string, event: PinflowEvent): Promise<void> {
    await this.producer.publishEvents([event]);
    await this.ledger.markPublished(commandId);
  }
}
