import { Injectable } from '@nestjs/common';
import { PinflowEvent, requestStatusOf } from '@pinflow/contracts';
import { PrismaClient } from '@pinflow/db';
import type { RequestStatusResponse } from './api-schemas';

/**
 * Keeps each request's status and the events that answered it, from pinflow.events.v1, so callers
 * can ask intake what happened without knowing about the audit service.
 */
@Injectable()
export class RequestStatusService {
  constructor(private readonly prisma: PrismaClient) {}

  async record(event: PinflowEvent): Promise<void> {
    const requestId = event.data.requestId;
    if (!requestId) return;
    const request = await this.prisma.intakeRequest.findUnique({ where: { id: requestId }, select: { id: true } });
    // Requests accepted elsewhere (another deployment sharing the topic) are not ours to track.
    if (!request) return;
    await this.prisma.$transaction(async (tx) => {
      await tx.intakeRequestEvent.createMany({
        data: [{ eventId: event.id, requestId, type: event.type, time: new Date(event.time), data: event.data }],
        skipDuplicates: true,
      });
      const events = await tx.intakeRequestEvent.findMany({ where: { requestId }, select: { type: true, time: true }, orderBy: { time: 'asc' } });
      const status = requestStatusOf(events.map((recorded) => recorded.type));
      if (status === 'succeeded' || status === 'failed') {
        await tx.intakeRequest.update({ where: { id: requestId }, data: { status, completedAt: events.at(-1)!.time } });
      }
    });
  }

  async find(requestId: string): Promise<RequestStatusResponse | undefined> {
    const request = await this.prisma.intakeRequest.findUnique({
      where: { id: requestId },
      include: { events: { orderBy: { time: 'asc' } } },
    });
    if (!request) return undefined;
    return {
      requestId: request.id,
      status: request.status as RequestStatusResponse['status'],
      vendor: request.vendor,
      operation: request.operation,
      cardId: request.cardId,
      acceptedAt: request.acceptedAt.toISOString(),
      completedAt: request.completedAt?.toISOString() ?? null,
      events: request.events.map((event) => ({
        id: event.eventId,
        type: event.type,
        time: event.time.toISOString(),
        data: event.data as Record<string, unknown>,
      })),
    };
  }
}
