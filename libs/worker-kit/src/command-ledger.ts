import type { PinflowEvent, Vendor } from '@pinflow/contracts';
import { Prisma, PrismaClient } from '@pinflow/db';
import { COMMAND_STATES, CommandRef, FinalState } from './outcomes';

export type StoredCommand = Prisma.VendorCommandModel;

/** Facts about a command its vendor's later events need; never a secret. */
export type CommandDetails = Prisma.InputJsonObject;

const FINAL_STATES: readonly string[] = [COMMAND_STATES.succeeded, COMMAND_STATES.failed];

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

  /** Records a command that ends without a call to the vendor. False when the command is known. */
  async recordWithoutCall(command: CommandRef, event: PinflowEvent): Promise<boolean> {
    const { count } = await this.prisma.vendorCommand.createMany({
      data: [{ ...this.row(command), state: COMMAND_STATES.failed, outcomeEvent: asJson(event) }],
      skipDuplicates: true,
    });
    return count === 1;
  }

  async countAttempt(commandId: string): Promise<void> {
    await this.prisma.vendorCommand.update({ where: { commandId, vendor: this.vendor }, data: { attempts: { increment: 1 } } });
  }

  /** The vendor accepted the command; false when its event already settled the command. */
  async awaitVendorEvent(commandId: string, vendorStatus: number, correlationId: string): Promise<boolean> {
    const { count } = await this.prisma.vendorCommand.updateMany({
      where: { commandId, vendor: this.vendor, state: COMMAND_STATES.calling },
      data: { state: COMMAND_STATES.awaitingVendorEvent, vendorStatus, correlationId },
    });
    return count === 1;
  }

  /** Ends a command that is CALLING, storing the event to publish; false when it is no longer CALLING. */
  async finishCall(commandId: string, state: FinalState, event: PinflowEvent, vendorStatus?: number): Promise<boolean> {
    const { count } = await this.prisma.vendorCommand.updateMany({
      where: { commandId, vendor: this.vendor, state: COMMAND_STATES.calling },
      data: { state, outcomeEvent: asJson(event), vendorStatus },
    });
    return count === 1;
  }

  async markPublished(commandId: string): Promise<void> {
    await this.prisma.vendorCommand.update({ where: { commandId, vendor: this.vendor }, data: { outcomePublishedAt: new Date() } });
  }

  async hasReceipt(eventId: string): Promise<boolean> {
    const receipt = await this.prisma.vendorEventReceipt.findUnique({ where: { vendor_eventId: { vendor: this.vendor, eventId } } });
    return receipt !== null;
  }

  /** Notes a vendor event as handled and moves its command (if any, and not already final) to `settles`. */
  async recordVendorEvent(eventId: string, eventType: string, commandId?: string, settles?: FinalState): Promise<void> {
    await this.prisma.$transaction([
      this.prisma.vendorEventReceipt.createMany({ data: [{ vendor: this.vendor, eventId, eventType }], skipDuplicates: true }),
      ...(commandId && settles
        ? [
            this.prisma.vendorCommand.updateMany({
              where: { commandId, vendor: this.vendor, state: { notIn: [...FINAL_STATES] } },
              data: { state: settles },
            }),
          ]
        : []),
    ]);
  }

  private row(command: CommandRef) {
    return { commandId: command.commandId, vendor: this.vendor, requestId: command.requestId, cardId: command.cardId, operation: command.operation };
  }
}

export function isFinal(command: StoredCommand): boolean {
  return FINAL_STATES.includes(command.state);
}
