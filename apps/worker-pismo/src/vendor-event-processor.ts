import { Inject, Injectable } from '@nestjs/common';
import { JsonProducer } from '@pinflow/kafka';
import type { Logger } from '@pinflow/logging';
import { CommandStore } from './command-store';
import { isKnownPismoEvent, PismoEvent, translatePismoEvent } from './pismo-events';
import { WORKER_LOGGER } from './tokens';

/**
 * Turns Pismo's own events into pinflow events, linked to the command whose cid they carry. Pismo
 * delivers at least once: a receipt per Pismo event id skips repeats, and the pinflow event id is
 * derived from it, so a repeat that slips through (published, then crashed before the receipt) dedupes downstream.
 */
@Injectable()
export class VendorEventProcessor {
  constructor(
    private readonly store: CommandStore,
    private readonly producer: JsonProducer,
    @Inject(WORKER_LOGGER) private readonly logger: Logger,
  ) {}

  async handle(pismo: PismoEvent): Promise<void> {
    const log = this.logger.child({ pismoEventId: pismo.event_id, pismoEventType: pismo.event_type });
    if (!isKnownPismoEvent(pismo)) {
      log.debug('Pismo event of a type pinflow does not react to; skipped');
      return;
    }
    if (await this.store.hasReceipt(pismo.event_id)) {
      log.info('Pismo event already handled; skipped');
      return;
    }
    const command = pismo.cid ? await this.store.findByCorrelationId(pismo.cid) : null;
    const translation = translatePismoEvent(pismo, command ?? undefined);
    if ('skip' in translation) {
      log.info({ cardId: pismo.data.card_id, commandId: command?.commandId, why: translation.skip }, 'Pismo event needs no pinflow event');
      return;
    }
    await this.producer.publishEvents([translation.event]);
    await this.store.recordVendorEvent(pismo.event_id, pismo.event_type, command?.commandId, translation.settles);
    log.info({ cardId: translation.event.subject, commandId: command?.commandId, event: translation.event.type }, 'Pismo event published as a pinflow event');
  }
}
