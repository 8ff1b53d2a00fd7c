import { Injectable } from '@nestjs/common';
import { PinflowEvent, requestStatusOf } from '@pinflow/contracts';
import { Prisma, PrismaClient } from '@pinflow/db';
import type { RequestStatusResponse } from './api-schemas';

/**
 * Keeps each request's status and the events that answered it, from pinflow.events.v1, so callers
 * can ask intake what happened without knowing about the audit service.
 */
@Injectable()
export class RequestStatusService {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Records an event about one of intake's requests and moves the request to its final status, in
   * autocommitted statements rather than an interactive transaction: each holds a pooled connection
   * for one round trip, which leaves the pool to the requests being accepted. Redeliveries and races
   * are harmless: the insert is idempotent, and a status only moves forward (a success outranks a
   * failure, as `requestStatusOf` says).
   */
  async record(event: PinflowEvent): Promise<void> {
    const requestId = event.data.requestId;
    if (!requestId) return;
    try {
      await this.prisma.intakeRequestEvent.createMany({
        data: [{ eventId: event.id, requestId, type: event.type, time: new Date(event.time), data: event.data }],
        skipDuplicates: true,
      });
    } catch (error) {
      // Requests accepted elsewhere (another deployment sharing the topic) are not ours to track.
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2003') return;
      throw error;
    }
    const status = requestStatusOf([event.type]);
    if (status !== 'succeeded' && status !== 'failed') return;
    await this.prisma.intakeRequest.updateMany({
      where: { id: requestId, status: status === 'succeeded' ? { not: 'succeeded' } : 'accepted' },
      data: { status, completedAt: new Date(event.time) },
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
