import { Injectable } from '@nestjs/common';
import type { PinflowEvent } from '@pinflow/contracts';
import { Prisma, PrismaClient } from '@pinflow/db';
import { COMMAND_STATES, CommandRef, CommandState } from './outcomes';

export type StoredCommand = Prisma.PismoCommandModel;

const FINAL_STATES: readonly string[] = [COMMAND_STATES.succeeded, COMMAND_STATES.failed];

function asJson(event: PinflowEvent): Prisma.InputJsonValue {
  return event as unknown as Prisma.InputJsonValue;
}

/**
 * pismo_commands and pismo_event_receipts. Every state change is conditional on the state it leaves,
 * so the command consumer and Pismo's events, which race for the same row, never undo each other.
 */
@Injectable()
export class CommandStore {
  constructor(private readonly prisma: PrismaClient) {}

  find(commandId: string): Promise<StoredCommand | null> {
    return this.prisma.pismoCommand.findUnique({ where: { commandId } });
  }

  findByCorrelationId(correlationId: string): Promise<StoredCommand | null> {
    return this.prisma.pismoCommand.findUnique({ where: { correlationId } });
  }

  /**
   * Records CALLING before the first call to Pismo, with the cid we send as correlation id so that a
   * Pismo event overtaking the HTTP answer still finds its command. False when the command is known.
   */
  async claim(command: CommandRef, syncOfflinePin?: boolean): Promise<boolean> {
    const { count } = await this.prisma.pismoCommand.createMany({
      data: [{ ...command, state: COMMAND_STATES.calling, correlationId: command.commandId, syncOfflinePin }],
      skipDuplicates: true,
    });
    return count === 1;
  }

  /** Records a command that ends without a call to Pismo. False when the command is known. */
  async recordWithoutCall(command: CommandRef, event: PinflowEvent): Promise<boolean> {
    const { count } = await this.prisma.pismoCommand.createMany({
      data: [{ ...command, state: COMMAND_STATES.failed, outcomeEvent: asJson(event) }],
      skipDuplicates: true,
    });
    return count === 1;
  }

  async countAttempt(commandId: string): Promise<void> {
    await this.prisma.pismoCommand.update({ where: { commandId }, data: { attempts: { increment: 1 } } });
  }

  /** Pismo accepted the change; false when its event already settled the command. */
  async awaitVendorEvent(commandId: string, vendorStatus: number, correlationId: string): Promise<boolean> {
    const { count } = await this.prisma.pismoCommand.updateMany({
      where: { commandId, state: COMMAND_STATES.calling },
      data: { state: COMMAND_STATES.awaitingVendorEvent, vendorStatus, correlationId },
    });
    return count === 1;
  }

  /** Ends a command that is CALLING, storing the event to publish; false when it is no longer CALLING. */
  async finishCall(commandId: string, state: CommandState, event: PinflowEvent, vendorStatus?: number): Promise<boolean> {
    const { count } = await this.prisma.pismoCommand.updateMany({
      where: { commandId, state: COMMAND_STATES.calling },
      data: { state, outcomeEvent: asJson(event), vendorStatus },
    });
    return count === 1;
  }

  async markPublished(commandId: string): Promise<void> {
    await this.prisma.pismoCommand.update({ where: { commandId }, data: { outcomePublishedAt: new Date() } });
  }

  hasReceipt(pismoEventId: string): Promise<boolean> {
    return this.prisma.pismoEventReceipt.findUnique({ where: { eventId: pismoEventId } }).then((receipt) => receipt !== null);
  }

  /** Notes a Pismo event as handled and moves its command (if any, and not already final) to `settles`. */
  async recordVendorEvent(pismoEventId: string, eventType: string, commandId?: string, settles?: CommandState): Promise<void> {
    await this.prisma.$transaction([
      this.prisma.pismoEventReceipt.createMany({ data: [{ eventId: pismoEventId, eventType }], skipDuplicates: true }),
      ...(commandId && settles
        ? [this.prisma.pismoCommand.updateMany({ where: { commandId, state: { notIn: [...FINAL_STATES] } }, data: { state: settles } })]
        : []),
    ]);
  }
}

export function isFinal(command: StoredCommand): boolean {
  return FINAL_STATES.includes(command.state);
}
