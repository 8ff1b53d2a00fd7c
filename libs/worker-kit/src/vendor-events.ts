import type { JsonProducer } from '@pinflow/kafka';
import type { Logger } from '@pinflow/logging';
import { inCommandTrace, type CommandLedger, type StoredCommand } from './command-ledger';
import type { VendorEventTranslation } from './outcomes';

/** A vendor's own event, as the kit handles it. */
export interface VendorEvent {
  /** The vendor's id for the event, the same on every redelivery of it. */
  eventId: string;
  eventType: string;
  /** The correlation id the event carries back (the one a command was claimed or settled with), if any. */
  correlationId?: string | null;
  /** The pinflow event it stands for; `command` is the one its correlation id names, if any. */
  translate(command?: StoredCommand): VendorEventTranslation;
}

/**
 * Turns a vendor's own events into pinflow events, linked to the command whose correlation id they
 * carry. Vendors deliver at least once: a receipt per vendor event id skips repeats, and the pinflow
 * event id should be derived from it (vendorEventId), so a repeat that slips through (published,
 * then crashed before the receipt) dedupes downstream.
 */
export class VendorEventRunner {
  constructor(
    private readonly ledger: CommandLedger,
    private readonly producer: JsonProducer,
    private readonly logger: Logger,
  ) {}

  async handle(event: VendorEvent): Promise<void> {
    const log = this.logger.child({ vendorEventId: event.eventId, vendorEventType: event.eventType });
    const context = await this.ledger.vendorEventContext(event.eventId, event.correlationId);
    if (context.handled) {
      log.info('vendor event already handled; skipped');
      return;
    }
    // The vendor echoes the command's correlation id, not pinflow's traceparent: the outcome is
    // published in the trace stored with the command, so the change stays one trace.
    await inCommandTrace(`${this.ledger.vendor} event`, context.command, () => this.publish(event, context.command, log));
  }

  private async publish(event: VendorEvent, command: StoredCommand | null, log: Logger): Promise<void> {
    let translation = event.translate(command ?? undefined);
    if (command && 'event' in translation && translation.settles) {
      if (!(await this.ledger.settleByVendorEvent(command.commandId, translation.settles, translation.event))) {
        // The request already has its one outcome (pinflow stopped waiting for this event, or the
        // call's own answer settled it): the event is still a fact about the card, told as such.
        log.warn({ commandId: command.commandId, state: command.state }, 'vendor event about a command that had already ended; published for the card only');
        command = null;
        translation = event.translate(undefined);
      }
    }
    if ('skip' in translation) {
      log.info({ commandId: command?.commandId, why: translation.skip }, 'vendor event needs no pinflow event');
      return;
    }
    await this.producer.publishEvents([translation.event]);
    await this.ledger.recordVendorEvent(event.eventId, event.eventType);
    log.info({ cardId: translation.event.subject, commandId: command?.commandId, event: translation.event.type }, 'vendor event published as a pinflow event');
  }
}
