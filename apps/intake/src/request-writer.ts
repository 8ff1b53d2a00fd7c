import { Inject, Injectable } from '@nestjs/common';
import { Coalescer, SqlPool } from '@pinflow/sql';
import { describeError, EncodedMessage, isInfrastructureFault } from '@pinflow/kafka';
import type { Logger } from '@pinflow/logging';
import { INTAKE_LOGGER } from './tokens';

/** A new request as intake records it: its idempotency record and the messages it publishes. */
export interface RequestRecord {
  id: string;
  commandId: string;
  vendor: string;
  operation: string;
  cardId: string;
  caller: string;
  tenant: string | null;
  idempotencyKey: string | null;
  fingerprint: string;
  /** The tenant that must own the card (vendor, cardId) for the request to be recorded; null: not checked (ownership open). */
  requiredOwner: string | null;
  messages: EncodedMessage[];
}

/** The request that an Idempotency-Key already names: a repeat gets its answer. */
export type EarlierRequest = Pick<RequestRecord, 'id' | 'commandId' | 'vendor' | 'operation' | 'cardId' | 'fingerprint'>;

/** Recorded; or not, because the caller's Idempotency-Key already names an earlier request, or the card is not the required owner's. */
export type WriteOutcome = { written: true } | { written: false; earlier: EarlierRequest } | { written: false; cardNotOwned: true };

interface QueuedRecord {
  record: RequestRecord;
  resolve: (outcome: WriteOutcome) => void;
  reject: (error: unknown) => void;
}

/** Keeps one statement's arrays (two per request) well below what a round trip should carry. */
const MAX_GROUP_SIZE = 100;

/**
 * Taken by every group commit before it draws outbox sequence numbers and held until it commits,
 * so that sequence order is commit order across intake replicas too: the relay can then delete
 * what it published by range without ever deleting a row it had not yet seen.
 */
const OUTBOX_APPEND_LOCK = 7_240_002;

// One statement, hence one transaction: the requests and their messages commit together or not at
// all. A request whose caller and key are taken inserts nothing, and so none of its messages; nor
// does one whose card is not its required owner's (one primary-key probe of intake_card_owners per
// request, in the same snapshot as the insert, so an ownership change applies to every later group).
const WRITE_GROUP = `
  WITH append_lock AS (SELECT pg_advisory_xact_lock(${OUTBOX_APPEND_LOCK})),
  request AS (
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
      AS request (id, command_id, vendor, operation, card_id, caller, tenant, idempotency_key, request_fingerprint, required_owner)),
  owned AS (
    SELECT request.* FROM request
    WHERE request.required_owner IS NULL
      OR EXISTS (SELECT FROM intake_card_owners owner
        WHERE owner.vendor = request.vendor AND owner.card_id = request.card_id AND owner.tenant = request.required_owner)),
  written AS (
    INSERT INTO intake_requests (id, command_id, vendor, operation, card_id, caller, tenant, idempotency_key, request_fingerprint, status)
    SELECT owned.id, owned.command_id, owned.vendor, owned.operation, owned.card_id, owned.caller, owned.tenant, owned.idempotency_key, owned.request_fingerprint, 'accepted'
    FROM owned CROSS JOIN append_lock
    ON CONFLICT (caller, idempotency_key) DO NOTHING
    RETURNING id),
  published AS (
    INSERT INTO outbox_messages (topic, key, value, headers)
    SELECT message.topic, message.key, message.value, message.headers::jsonb
    FROM unnest($11::uuid[], $12::text[], $13::text[], $14::text[], $15::text[])
      WITH ORDINALITY AS message (request_id, topic, key, value, headers, position)
    JOIN written ON written.id = message.request_id
    ORDER BY message.position)
  SELECT id, true AS written FROM written
  UNION ALL
  SELECT id, false FROM request WHERE NOT EXISTS (SELECT FROM owned WHERE owned.id = request.id)`;

/** What a group commit did: the requests it recorded, and those it refused because their card is not the required owner's. */
interface GroupResult {
  written: Set<string>;
  notOwned: Set<string>;
}

// One probe of the (caller, idempotency_key) unique index per key. As `IN (SELECT unnest)` the
// statement's cached plan, made while the table was small (a new database, or one autovacuum has not
// analysed yet), read the whole table on every call for the life of the connection; OFFSET 0 keeps the
// lateral subquery a per-key index probe whatever the statistics say.
const FIND_EARLIER = `
  SELECT earlier.* FROM unnest($1::text[], $2::text[]) AS wanted (caller, idempotency_key)
  CROSS JOIN LATERAL (
    SELECT caller, idempotency_key, id, command_id, vendor, operation, card_id, request_fingerprint AS fingerprint FROM intake_requests
    WHERE intake_requests.caller = wanted.caller AND intake_requests.idempotency_key = wanted.idempotency_key OFFSET 0) earlier`;

/** Caller and Idempotency-Key as one map key (no caller name holds a NUL). */
function keyOf(record: { caller: string; idempotencyKey: string | null }): string {
  return `${record.caller}\u0000${record.idempotencyKey}`;
}

/** Per Idempotency-Key in the group, the first request with it: the one inserted, which the others repeat. */
function firstOfEachKey(records: RequestRecord[]): Map<string, RequestRecord> {
  const first = new Map<string, RequestRecord>();
  for (const record of records) if (record.idempotencyKey !== null && !first.has(keyOf(record))) first.set(keyOf(record), record);
  return first;
}

/**
 * Records accepted requests with their outbox messages by group commit: requests that arrive while
 * a commit is under way, or in the same turn of the event loop, share the next one (one multi-row
 * statement), so each commit's cost is spread over all of them. Commits run one at a time, which
 * keeps outbox order equal to commit order. A failing commit fails only its own requests: all of
 * them when the database is away, otherwise only those that fail again when committed alone.
 */
@Injectable()
export class RequestWriter {
  private queue: QueuedRecord[] = [];
  private writing = false;
  // Every request looks its key up before it is drafted: requests in hand at once share the query.
  private readonly lookups = new Coalescer<{ caller: string; idempotencyKey: string }, EarlierRequest | undefined>(
    async (keys) => {
      const found = await this.findEarlier(keys);
      return keys.map((key) => found.get(keyOf(key)));
    },
    { maxBatch: MAX_GROUP_SIZE },
  );

  constructor(
    private readonly pool: SqlPool,
    @Inject(INTAKE_LOGGER) private readonly logger: Logger,
  ) {}

  /** The request this caller's Idempotency-Key names, if any. */
  async earlierRequest(caller: string, idempotencyKey: string): Promise<EarlierRequest | undefined> {
    return this.lookups.submit({ caller, idempotencyKey });
  }

  /** Resolves once the request is committed, or found to repeat an earlier one; rejects if its group failed. */
  write(record: RequestRecord): Promise<WriteOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      if (this.writing) return;
      this.writing = true;
      // Requests that got here in the same turn of the event loop join the first group.
      setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.queue.splice(0, MAX_GROUP_SIZE);
      let result: GroupResult;
      try {
        result = await this.insert(group.map((queued) => queued.record));
      } catch (error) {
        if (isInfrastructureFault(error) || group.length === 1) this.refuse(group, error);
        // One request can fail its group (a value PostgreSQL refuses): alone, it fails only itself.
        else for (const queued of group) await this.commitAlone(queued);
        continue;
      }
      await this.answer(group, result);
    }
    this.writing = false;
  }

  private async commitAlone(queued: QueuedRecord): Promise<void> {
    let result: GroupResult;
    try {
      result = await this.insert([queued.record]);
    } catch (error) {
      this.refuse([queued], error);
      return;
    }
    await this.answer([queued], result);
  }

  private refuse(group: QueuedRecord[], error: unknown): void {
    this.logger.error({ error: describeError(error), requests: group.length }, 'group commit failed; its requests are refused');
    for (const queued of group) queued.reject(error);
  }

  /** Commits the group's new requests with their messages. */
  private async insert(records: RequestRecord[]): Promise<GroupResult> {
    const firstWithKey = firstOfEachKey(records);
    const inserting = records.filter((record) => record.idempotencyKey === null || firstWithKey.get(keyOf(record)) === record);
    const messages = inserting.flatMap((record) => record.messages.map((message) => ({ requestId: record.id, ...message })));
    const { rows } = await this.pool.query<{ id: string; written: boolean }>({
      name: 'intake-write-group',
      text: WRITE_GROUP,
      values: [
        inserting.map((record) => record.id),
        inserting.map((record) => record.commandId),
        inserting.map((record) => record.vendor),
        inserting.map((record) => record.operation),
        inserting.map((record) => record.cardId),
        inserting.map((record) => record.caller),
        inserting.map((record) => record.tenant),
        inserting.map((record) => record.idempotencyKey),
        inserting.map((record) => record.fingerprint),
        inserting.map((record) => record.requiredOwner),
        messages.map((message) => message.requestId),
        messages.map((message) => message.topic),
        messages.map((message) => message.key),
        messages.map((message) => message.value),
        messages.map((message) => JSON.stringify(message.headers)),
      ],
    });
    return { written: new Set(rows.filter((row) => row.written).map((row) => row.id)), notOwned: new Set(rows.filter((row) => !row.written).map((row) => row.id)) };
  }

  /**
   * Tells each request of a committed group what became of it. A repeat of a key whose first request
   * was refused for its card is queued again: nothing holds its key, so it is committed on its own
   * merits in the next group. Should even that fail, they are refused: whichever were recorded, a
   * retry with the same key gets their answer.
   */
  private async answer(group: QueuedRecord[], { written, notOwned }: GroupResult): Promise<void> {
    try {
      const firstWithKey = firstOfEachKey(group.map((queued) => queued.record));
      const earlier = new Map<string, EarlierRequest>();
      const taken = [...firstWithKey.values()].filter((record) => !written.has(record.id) && !notOwned.has(record.id));
      if (taken.length > 0) for (const [key, request] of await this.findEarlier(taken)) earlier.set(key, request);
      for (const [key, { id, commandId, vendor, operation, cardId, fingerprint }] of firstWithKey) {
        if (written.has(id)) earlier.set(key, { id, commandId, vendor, operation, cardId, fingerprint });
      }
      const outcomes = group.map(({ record }): WriteOutcome | 'again' => {
        if (written.has(record.id)) return { written: true };
        if (notOwned.has(record.id)) return { written: false, cardNotOwned: true };
        const request = earlier.get(keyOf(record));
        if (!request && notOwned.has(firstWithKey.get(keyOf(record))?.id ?? '')) return 'again';
        // ON CONFLICT skips a request only for a committed one with its key, and requests are never deleted.
        if (!request) throw new Error('an Idempotency-Key conflicted with a request that cannot be found');
        return { written: false, earlier: request };
      });
      group.forEach((queued, index) => {
        const outcome = outcomes[index];
        if (outcome === 'again') this.queue.push(queued);
        else queued.resolve(outcome);
      });
    } catch (error) {
      this.refuse(group, error);
    }
  }

  private async findEarlier(keys: { caller: string; idempotencyKey: string | null }[]): Promise<Map<string, EarlierRequest>> {
    const { rows } = await this.pool.query<{ caller: string; idempotency_key: string; id: string; command_id: string; vendor: string; operation: string; card_id: string; fingerprint: string }>({
      name: 'intake-find-earlier',
      text: FIND_EARLIER,
      values: [keys.map((key) => key.caller), keys.map((key) => key.idempotencyKey)],
    });
    return new Map(
      rows.map((row) => [
        keyOf({ caller: row.caller, idempotencyKey: row.idempotency_key }),
        { id: row.id, commandId: row.command_id, vendor: row.vendor, operation: row.operation, cardId: row.card_id, fingerprint: row.fingerprint },
      ]),
    );
  }
}
