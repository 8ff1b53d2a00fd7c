import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { OPERATOR_SCOPE, PIN_READ_SCOPE, Principal, RequireScopes, type AuthenticatedPrincipal } from '@pinflow/auth';
import { ProblemException, ZodValidationPipe } from '@pinflow/http';
import { DeadLetterReplays, readDeadLetters, replayKeyOf, summarize, type DeadLetterSummary, type LetterReplay } from '@pinflow/kafka';
import { SqlPool } from '@pinflow/sql';
import { Kafka } from 'kafkajs';
import { z } from 'zod';
import { AuditEventStore } from './event-store';
import { VENDOR_HEALTH_WINDOW_MINUTES, vendorHealth, type VendorHealth } from './vendor-health';

/** The most letters the console lists: the newest, a screenful or two. */
const DEAD_LETTER_PAGE = 100;

const replayRequest = z.strictObject({
  partition: z.number().int().min(0),
  offset: z.string().regex(/^\d{1,19}$/, 'must be the offset of a dead letter, in decimal'),
  /** Replay a letter that was replayed before: without it, a second replay is refused (409). */
  force: z.boolean().default(false),
});

export interface DeadLetterList {
  /** How many letters the dead-letter topic holds. */
  total: number;
  /** The newest letters, newest first: why each was parked and where from, never its value. */
  letters: DeadLetterSummary[];
}

/**
 * What only operators may do through audit's HTTP API: read and replay dead letters, and see each
 * vendor's recent outcomes. Behind both scopes, like every caller's history.
 */
@Controller('v1/operator')
@RequireScopes(PIN_READ_SCOPE, OPERATOR_SCOPE)
export class OperatorController {
  private readonly replays: DeadLetterReplays;

  constructor(
    private readonly kafka: Kafka,
    private readonly store: AuditEventStore,
    pool: SqlPool,
  ) {
    this.replays = new DeadLetterReplays(pool);
  }

  /** The newest letters, each with every replay operators made of it (it stays on the topic). */
  @Get('dead-letters')
  async deadLetters(): Promise<DeadLetterList> {
    const letters = await readDeadLetters(this.kafka);
    const page = letters.slice(-DEAD_LETTER_PAGE).reverse();
    const histories = await this.replays.historiesOf(page);
    return { total: letters.length, letters: page.map((letter) => summarize(letter, histories.get(replayKeyOf(letter)))) };
  }

  /** Every replay operators made, oldest first: `npm run dlq` reads the letters from Kafka and their replays here. */
  @Get('dead-letter-replays')
  async replayHistory(): Promise<{ replays: LetterReplay[] }> {
    return { replays: await this.replays.history() };
  }

  /**
   * Puts one letter back on the topic it came from, once: a letter replayed before is refused (409)
   * unless the request says `force`. The only door a replay goes through (the console's button and
   * `npm run dlq -- replay` both knock here), so every replay is recorded under the caller's token subject.
   */
  @Post('dead-letters/replay')
  @HttpCode(200)
  async replay(
    @Body(new ZodValidationPipe(replayRequest)) request: z.output<typeof replayRequest>,
    @Principal() principal: AuthenticatedPrincipal,
  ): Promise<{ replayed: DeadLetterSummary }> {
    const letter = (await readDeadLetters(this.kafka)).find((candidate) => candidate.partition === request.partition && candidate.offset === request.offset);
    if (!letter) throw new ProblemException(404, 'DEAD_LETTER_NOT_FOUND', 'Dead letter not found', 'The dead-letter topic holds no letter at this partition and offset.');
    const outcome = await this.replays.replayOnce(this.kafka, letter, principal.subject, request.force);
    if (!outcome.replayed) {
      const { replayedAt, replayedBy } = outcome.record;
      throw new ProblemException(409, 'DEAD_LETTER_ALREADY_REPLAYED', 'Dead letter already replayed', `Replayed at ${replayedAt} by ${replayedBy}; send "force": true to replay it again.`, {
        replayedAt,
        replayedBy,
      });
    }
    return { replayed: summarize(letter, (await this.replays.historiesOf([letter])).get(replayKeyOf(letter))) };
  }

  @Get('vendors')
  async vendors(): Promise<{ windowMinutes: number; vendors: VendorHealth[] }> {
    const since = new Date(Date.now() - VENDOR_HEALTH_WINDOW_MINUTES * 60_000);
    return { windowMinutes: VENDOR_HEALTH_WINDOW_MINUTES, vendors: vendorHealth(await this.store.outcomeCounts(since)) };
  }
}

