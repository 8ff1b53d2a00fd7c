import { Injectable } from '@nestjs/common';
import { EVENT_TYPES, PinflowEvent, TERMINAL_EVENT_TYPES } from '@pinflow/contracts';
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
    const terminalStatus = TERMINAL_EVENT_TYPES.has(event.type) ? (event.type === EVENT_TYPES.failed ? 'failed' : 'succeeded') : undefined;
    await this.prisma.$transaction([
      this.prisma.intakeRequestEvent.createMany({
        data: [{ eventId: event.id, requestId, type: event.type, time: new Date(event.time), data: event.data }],
        skipDuplicates: true,
      }),
      ...(terminalStatus
        ? [
            // The first terminal outcome wins; a redelivered or late event never flips it.
            this.prisma.intakeRequest.updateMany({
              where: { id: requestId, completedAt: null },
              data: { status: terminalStatus, completedAt: new Date(event.time) },
            }),
          ]
        : []),
    ]);
  }

  async find(requestId: string): Promise<RequestStatusResponse | undefined> {
    const request = await this.prisma.intakeRequest.findUnique({
      where: { id: requestId },
      include: { events: { orderBy: { time: 'asc' } } },
    });
    if (!request || request.status === 'pending') return undefined;
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
