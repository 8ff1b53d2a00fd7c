import type { PinflowEvent, Vendor } from '@pinflow/contracts';
import { Prisma, PrismaClient } from '@pinflow/db';
import { COMMAND_STATES, CommandRef, FinalState } from './outcomes';

export type StoredCommand = Prisma.VendorCommandModel;

/** Facts about a command its vendor's later events need; never a secret. */
export type CommandDetails = Prisma.InputJsonObject;

const FINAL_STATES: readonly string[] = [COMMAND_STATES.succeeded, COMMAND_STATES.failed, COMMAND_STATES.failedRetryable];

function asJson(event: PinflowEvent): Prisma.InputJsonValue {
  return event as unknown as Prisma.InputJsonValue;
}

/**
 * One vendor's rows of vendor_commands and vendor_event_receipts. Every state change is conditional
 * on the state it leaves, so the command consumer and the vendor's events, which race for the same
 * row, never undo each other.
 */
export class CommandLedger {
  constructor(
    private readonly prisma: PrismaClient,
    readonly vendor: Vendor,
  ) {}

  find(commandId: string): Promise<StoredCommand | null> {
    return this.prisma.vendorCommand.findUnique({ where: { commandId, vendor: this.vendor } });
  }

  findByCorrelationId(correlationId: string): Promise<StoredCommand | null> {
    return this.prisma.vendorCommand.findUnique({ where: { vendor_correlationId: { vendor: this.vendor, correlationId } } });
  }

  /**
   * Records CALLING before the first call, with the command id as correlation id (the id workers send
   * as the vendor's correlation header), so that a vendor event overtaking the HTTP answer still finds
   * its command. False when the command is known.
   */
  async claim(command: CommandRef, details?: CommandDetails): Promise<boolean> {
    const { count } = await this.prisma.vendorCommand.createMany({
      data: [{ ...this.row(command), state: COMMAND_STATES.calling, correlationId: command.commandId, details }],
      skipDuplicates: true,
    });
    return count === 1;
  }

  /**
   * Records a command that ends without a call to the vendor; since the vendor never saw it, a replay
   * may run it again (FAILED_RETRYABLE). False when the command is known.
   */
  async recordWithoutCall(command: CommandRef, event: PinflowEvent): Promise<boolean> {
    const { count } = await this.prisma.vendorCommand.createMany({
      data: [{ ...this.row(command), state: COMMAND_STATES.failedRetryable, outcomeEvent: asJson(event) }],
      skipDuplicates: true,
    });
    return count === 1;
  }

  async countAttempt(commandId: string): Promise<void> {
    await this.prisma.vendorCommand.update({ where: { commandId, vendor: this.vendor }, data: { attempts: { increment: 1 } } });
  }

  /** The vendor surely did not apply the call that just failed: CALLING → RETRYING. False when the command is no longer CALLING. */
  retrying(commandId: string, vendorStatus: number | undefined): Promise<boolean> {
    return this.move(commandId, COMMAND_STATES.calling, { state: COMMAND_STATES.retrying, vendorStatus: vendorStatus ?? null });
  }

  /** Before the next call: RETRYING → CALLING. False when another delivery of the command took it over. */
  resumeCalling(commandId: string): Promise<boolean> {
    return this.move(commandId, COMMAND_STATES.retrying, { state: COMMAND_STATES.calling });
  }

  /**
   * A replayed command the vendor never applied starts over: FAILED_RETRYABLE → CALLING, its old
   * outcome dropped so that the new one gets published. False when it is no longer FAILED_RETRYABLE.
   */
  reclaim(commandId: string, details?: CommandDetails): Promise<boolean> {
    return this.move(commandId, COMMAND_STATES.failedRetryable, {
      state: COMMAND_STATES.calling,
      correlationId: commandId,
      details,
      vendorStatus: null,
      outcomeEvent: Prisma.DbNull,
      outcomePublishedAt: null,
    });
  }

  /** Whether the card got a command after this one: running this one again would undo the later one. */
  async hasLaterCommand(command: StoredCommand): Promise<boolean> {
    const later = await this.prisma.vendorCommand.count({ where: { vendor: this.vendor, cardId: command.cardId, createdAt: { gt: command.createdAt } } });
    return later > 0;
  }

  /**
   * The vendor's event will tell how the command ended: it accepted the command, or its answer was
   * lost but its event would still come. False when that event already settled the command.
   */
  awaitVendorEvent(commandId: string, vendorStatus: number | undefined, correlationId: string): Promise<boolean> {
    return this.move(commandId, COMMAND_STATES.calling, { state: COMMAND_STATES.awaitingVendorEvent, vendorStatus: vendorStatus ?? null, correlationId });
  }

  /** Commands whose vendor event has been due since before `cutoff`, oldest first. */
  awaitingSince(cutoff: Date, limit: number): Promise<StoredCommand[]> {
    return this.prisma.vendorCommand.findMany({
      where: { vendor: this.vendor, state: COMMAND_STATES.awaitingVendorEvent, updatedAt: { lt: cutoff } },
      orderBy: { updatedAt: 'asc' },
      take: limit,
    });
  }

  /** Outcomes recorded before `cutoff` whose publication was cut short (a crash in between). */
  unpublishedSince(cutoff: Date, limit: number): Promise<StoredCommand[]> {
    return this.prisma.vendorCommand.findMany({
      where: { vendor: this.vendor, state: { in: [...FINAL_STATES] }, outcomeEvent: { not: Prisma.DbNull }, outcomePublishedAt: null, updatedAt: { lt: cutoff } },
      orderBy: { updatedAt: 'asc' },
      take: limit,
    });
  }

  /** The vendor's event did not come in time: AWAITING_VENDOR_EVENT → FAILED. False when it came meanwhile. */
  stopAwaiting(commandId: string, event: PinflowEvent): Promise<boolean> {
    return this.move(commandId, COMMAND_STATES.awaitingVendorEvent, { state: COMMAND_STATES.failed, outcomeEvent: asJson(event) });
  }

  /**
   * A vendor event ends the command with `event`, unless the command has ended already: true when it
   * is not final yet, or when `event` is the outcome it ended with (a redelivery of the same event).
   * Publishing it is the vendor event's delivery's to do (until its receipt is recorded, a redelivery
   * publishes it again), so neither a redelivered command nor the sweep republishes it.
   */
  async settleByVendorEvent(commandId: string, settles: FinalState, event: PinflowEvent): Promise<boolean> {
    const { count } = await this.prisma.vendorCommand.updateMany({
      where: { commandId, vendor: this.vendor, OR: [{ state: { notIn: [...FINAL_STATES] } }, { outcomeEvent: { path: ['id'], equals: event.id } }] },
      data: { state: settles, outcomeEvent: asJson(event), outcomePublishedAt: new Date() },
    });
    return count === 1;
  }

  /** Ends a command that is CALLING, storing the event to publish; false when it is no longer CALLING. */
  finishCall(commandId: string, state: FinalState, event: PinflowEvent, vendorStatus?: number): Promise<boolean> {
    return this.move(commandId, COMMAND_STATES.calling, { state, outcomeEvent: asJson(event), vendorStatus });
  }

  async markPublished(commandId: string): Promise<void> {
    await this.prisma.vendorCommand.update({ where: { commandId, vendor: this.vendor }, data: { outcomePublishedAt: new Date() } });
  }

  async hasReceipt(eventId: string): Promise<boolean> {
    const receipt = await this.prisma.vendorEventReceipt.findUnique({ where: { vendor_eventId: { vendor: this.vendor, eventId } } });
    return receipt !== null;
  }

  /** Notes a vendor event as handled (published): its redeliveries are skipped. */
  async recordVendorEvent(eventId: string, eventType: string): Promise<void> {
    await this.prisma.vendorEventReceipt.createMany({ data: [{ vendor: this.vendor, eventId, eventType }], skipDuplicates: true });
  }

  /** The command's dead letter is on the dead-letter topic: a redelivery must not park it again. */
  async markDeadLettered(commandId: string): Promise<void> {
    await this.prisma.vendorCommand.update({ where: { commandId, vendor: this.vendor }, data: { deadLetteredAt: new Date() } });
  }

  private async move(commandId: string, from: string, data: Prisma.VendorCommandUpdateManyMutationInput): Promise<boolean> {
    const { count } = await this.prisma.vendorCommand.updateMany({ where: { commandId, vendor: this.vendor, state: from }, data });
    return count === 1;
  }

  private row(command: CommandRef) {
    return { commandId: command.commandId, vendor: this.vendor, requestId: command.requestId, cardId: command.cardId, operation: command.operation };
  }
}

export function isFinal(command: StoredCommand): boolean {
  return FINAL_STATES.includes(command.state);
}
