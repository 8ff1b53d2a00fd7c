import { Inject, Injectable } from '@nestjs/common';
import { cardId, PinflowEvent, PismoChangePinCommand, PismoCommand, PismoIncreasePasswordTriesCommand } from '@pinflow/contracts';
import { JsonProducer, MessageMeta } from '@pinflow/kafka';
import type { Logger } from '@pinflow/logging';
import { decryptPin, PinDecryptionError, PinKeyRing } from '@pinflow/pin-crypto';
import { z } from 'zod';
import { CommandStore, isFinal, StoredCommand } from './command-store';
import { COMMAND_STATES, CommandRef, failedEvent, settle } from './outcomes';
import { PismoClient } from './pismo/pismo-client';
import { VendorCallResult, vendorStatusOf } from './pismo/vendor-response';
import { callWithRetries, RetryPolicy } from './retry-policy';
import { RETRY_POLICY, WORKER_LOGGER } from './tokens';

/** Enough of a broken command to tell its requester that it failed. */
const identifiableCommand = z.object({
  commandId: z.uuid(),
  requestId: z.uuid(),
  cardId,
  operation: z.string().regex(/^[a-z_]{1,64}$/).catch('unknown'),
});

function refOf(command: PismoCommand | StoredCommand): CommandRef {
  return { commandId: command.commandId, requestId: command.requestId, cardId: command.cardId, operation: command.operation };
}

/**
 * Turns each command into at most one call sequence to Pismo. What happened is recorded per command
 * before and after the call, so a redelivered command never reaches Pismo again.
 */
@Injectable()
export class CommandProcessor {
  constructor(
    private readonly store: CommandStore,
    private readonly pismo: PismoClient,
    private readonly producer: JsonProducer,
    private readonly keyRing: PinKeyRing,
    @Inject(RETRY_POLICY) private readonly retryPolicy: RetryPolicy,
    @Inject(WORKER_LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * `heartbeat` keeps this consumer in its group while retries wait out a slow vendor; without it a
   * rebalance would hand the command, mid-call, to another worker.
   */
  async handle(command: PismoCommand, heartbeat: () => Promise<void>): Promise<void> {
    const log = this.logger.child({ commandId: command.commandId, cardId: command.cardId, operation: command.operation });
    const known = await this.store.find(command.commandId);
    if (known) return this.resume(known, log);
    log.info('command received');
    if (command.operation === 'change_pin') return this.changePin(command, log, heartbeat);
    return this.increasePasswordTries(command, log, heartbeat);
  }

  /** A command that breaks the contract: its requester is told when the command says who that is. */
  async rejectInvalid(raw: unknown, issues: string[], meta: MessageMeta): Promise<void> {
    const ids = identifiableCommand.safeParse(raw);
    this.logger.warn(
      { topic: meta.topic, partition: meta.partition, offset: meta.offset, issues, commandId: ids.data?.commandId },
      'rejecting a command that breaks the contract',
    );
    if (ids.success) await this.producer.publishEvents([failedEvent(ids.data, 'INVALID_COMMAND')]);
  }

  private async changePin(command: PismoChangePinCommand, log: Logger, heartbeat: () => Promise<void>): Promise<void> {
    let pin: string;
    try {
      pin = await decryptPin(command.encryptedPin, this.keyRing);
    } catch (error) {
      if (!(error instanceof PinDecryptionError)) throw error;
      log.warn({ decryptionError: error.code }, 'the encrypted PIN cannot be decrypted');
      const event = failedEvent(refOf(command), 'UNDECRYPTABLE_PIN');
      if (!(await this.store.recordWithoutCall(refOf(command), event))) return this.resumeKnown(command.commandId, log);
      return this.publishOutcome(command.commandId, event);
    }
    if (!(await this.store.claim(refOf(command), command.syncOfflinePin))) return this.resumeKnown(command.commandId, log);
    const call = await this.callPismo(command, log, heartbeat, () => this.pismo.changePin(command.cardId, pin, command.syncOfflinePin, command.commandId));
    return this.settle(command, call, log);
  }

  private async increasePasswordTries(command: PismoIncreasePasswordTriesCommand, log: Logger, heartbeat: () => Promise<void>): Promise<void> {
    if (!(await this.store.claim(refOf(command)))) return this.resumeKnown(command.commandId, log);
    const call = await this.callPismo(command, log, heartbeat, () =>
      this.pismo.increasePasswordTries(command.cardId, command.blockCardExceedsCounter, command.commandId),
    );
    return this.settle(command, call, log);
  }

  private async callPismo(command: PismoCommand, log: Logger, heartbeat: () => Promise<void>, call: () => Promise<VendorCallResult>): Promise<VendorCallResult> {
    const { result } = await callWithRetries(async (attempt) => {
      await heartbeat();
      await this.store.countAttempt(command.commandId);
      const outcome = await call();
      log.info({ attempt, vendorStatus: vendorStatusOf(outcome), ...(outcome.kind === 'unreachable' ? { cause: outcome.cause } : {}) }, 'Pismo called');
      return outcome;
    }, this.retryPolicy);
    return result;
  }

  private async settle(command: PismoCommand, result: VendorCallResult, log: Logger): Promise<void> {
    const settlement = settle(command, result);
    if (settlement.state === COMMAND_STATES.awaitingVendorEvent) {
      const moved = await this.store.awaitVendorEvent(command.commandId, settlement.vendorStatus, settlement.correlationId);
      log.info({ vendorStatus: settlement.vendorStatus, settledByVendorEvent: !moved }, 'Pismo accepted the PIN change; awaiting its event');
      return;
    }
    if (!(await this.store.finishCall(command.commandId, settlement.state, settlement.event, settlement.vendorStatus))) {
      log.warn({ vendorStatus: settlement.vendorStatus }, 'Pismo’s own event settled the command first; its answer is not republished');
      return;
    }
    log.info({ state: settlement.state, event: settlement.event.type, vendorStatus: settlement.vendorStatus }, 'command settled');
    return this.publishOutcome(command.commandId, settlement.event);
  }

  /** Another delivery of the same command got there first (or moved its state meanwhile). */
  private async resumeKnown(commandId: string, log: Logger): Promise<void> {
    const known = await this.store.find(commandId);
    if (!known) throw new Error(`command ${commandId} vanished from pismo_commands`);
    return this.resume(known, log);
  }

  /** A command seen before: Pismo is never called again; at most its outcome is (re)published. */
  private async resume(known: StoredCommand, log: Logger): Promise<void> {
    if (known.state === COMMAND_STATES.calling) {
      // A worker stopped between claiming the command and recording Pismo's answer: the PIN may or
      // may not have changed, and calling again could change it twice.
      const event = failedEvent(refOf(known), 'OUTCOME_UNKNOWN');
      if (await this.store.finishCall(known.commandId, COMMAND_STATES.failed, event)) {
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
    await this.store.markPublished(commandId);
  }
}
