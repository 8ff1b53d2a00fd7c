import { Logger } from '@nestjs/common';
import { createDatabase, Database } from '@pinflow/db';
import { testEnv } from '@pinflow/testing';
import { randomUUID } from 'node:crypto';
import { D1ChangeCounters } from './change-counters';
import { completed, failed } from './push-outcomes.spec-support';

/** Each card's Seccos PIN change counter, in intake's own table of the real database. */
describe('D1ChangeCounters', () => {
  const ISSUER = 'ISSUER0001';
  let database: Database;
  let counters: D1ChangeCounters;
  const newCard = () => `card-${randomUUID()}`;
  const refusal = (claim: Promise<unknown>) => claim.then(() => 'claimed', (error: { getStatus(): number; getResponse(): { errorCode: string } }) => `${error.getStatus()} ${error.getResponse().errorCode}`);
  /** A push put in flight for the card with the counter it was computed with; its command id. */
  const push = async (cardId: string, counter: number) => {
    const commandId = randomUUID();
    await counters.claim(ISSUER, cardId, counter, commandId);
    return commandId;
  };

  beforeAll(() => {
    database = createDatabase(testEnv().databaseUrl, 4);
    counters = new D1ChangeCounters(database.pool, ['pismo']);
  });

  afterAll(() => database.pool.end());

  it('starts a card never pushed to at 0, and moves it on by one for each change the processor completed', async () => {
    const card = newCard();
    expect(await counters.current(ISSUER, card)).toBe(0);

    const first = await push(card, 0);
    expect(await counters.current(ISSUER, card)).toBe(0);
    await counters.settle([completed(card, first)]);
    expect(await counters.current(ISSUER, card)).toBe(1);

    await counters.settle([completed(card, await push(card, 1))]);
    expect(await counters.current(ISSUER, card)).toBe(2);
  });

  it('leaves the counter where it was when the processor fails the change, and frees the card for a push with it', async () => {
    const card = newCard();
    const failing = await push(card, 0);

    await counters.settle([failed(card, failing, 'CARD_NOT_FOUND')]);

    expect(await counters.current(ISSUER, card)).toBe(0);
    await counters.settle([completed(card, await push(card, 0))]);
    expect(await counters.current(ISSUER, card)).toBe(1);
  });

  it('refuses the current value with 409 PIN_CHANGE_IN_PROGRESS while a push is in flight, and any other as stale', async () => {
    const card = newCard();
    await push(card, 0);

    expect(await refusal(counters.claim(ISSUER, card, 0, randomUUID()))).toBe('409 PIN_CHANGE_IN_PROGRESS');
    expect(await refusal(counters.claim(ISSUER, card, 1, randomUUID()))).toBe('409 STALE_CHANGE_COUNTER');
  });

  it('refuses a value the card is not at with 409 STALE_CHANGE_COUNTER, one behind and one ahead alike', async () => {
    const card = newCard();
    await counters.settle([completed(card, await push(card, 0))]);

    expect(await refusal(counters.claim(ISSUER, card, 0, randomUUID()))).toBe('409 STALE_CHANGE_COUNTER');
    expect(await refusal(counters.claim(ISSUER, card, 5, randomUUID()))).toBe('409 STALE_CHANGE_COUNTER');
    // A card never pushed to is at 0.
    expect(await refusal(counters.claim(ISSUER, newCard(), 3, randomUUID()))).toBe('409 STALE_CHANGE_COUNTER');
    expect(await counters.current(ISSUER, card)).toBe(1);
  });

  it('keeps a push whose outcome is unknown in flight, as the PIN may have changed, until an outcome of that command settles it', async () => {
    const [confirmed, refused] = [newCard(), newCard()];
    const [confirmedPush, refusedPush] = [await push(confirmed, 0), await push(refused, 0)];

    await counters.settle([failed(confirmed, confirmedPush, 'OUTCOME_UNKNOWN'), failed(refused, refusedPush, 'OUTCOME_UNKNOWN')]);
    expect(await refusal(counters.claim(ISSUER, confirmed, 0, randomUUID()))).toBe('409 PIN_CHANGE_IN_PROGRESS');

    await counters.settle([completed(confirmed, confirmedPush), failed(refused, refusedPush, 'VENDOR_REJECTED')]);
    expect([await counters.current(ISSUER, confirmed), await counters.current(ISSUER, refused)]).toEqual([1, 0]);
    expect(await refusal(counters.claim(ISSUER, refused, 0, randomUUID()))).toBe('claimed');
  });

  it('settles each push once: an outcome delivered again changes nothing, even after the next push', async () => {
    const card = newCard();
    const first = await push(card, 0);
    await counters.settle([completed(card, first)]);
    const second = await push(card, 1);

    await counters.settle([completed(card, first), failed(card, first, 'VENDOR_REJECTED')]);

    expect(await counters.current(ISSUER, card)).toBe(1);
    expect(await refusal(counters.claim(ISSUER, card, 1, randomUUID()))).toBe('409 PIN_CHANGE_IN_PROGRESS');
    await counters.settle([completed(card, second), completed(card, second)]);
    expect(await counters.current(ISSUER, card)).toBe(2);
  });

  it('takes a success over a failure of the same push in one batch, as the request status does', async () => {
    const card = newCard();
    const commandId = await push(card, 0);

    await counters.settle([failed(card, commandId, 'VENDOR_UNAVAILABLE'), completed(card, commandId)]);

    expect(await counters.current(ISSUER, card)).toBe(1);
  });

  it('lets one of several racing pushes with the same counter have the card', async () => {
    const card = newCard();

    const outcomes = await Promise.all([0, 1, 2].map(() => refusal(counters.claim(ISSUER, card, 0, randomUUID()))));

    expect(outcomes.sort()).toEqual(['409 PIN_CHANGE_IN_PROGRESS', '409 PIN_CHANGE_IN_PROGRESS', 'claimed']);
  });

  it('frees the card of a push intake then refused, without moving its counter', async () => {
    const card = newCard();
    const refused = await push(card, 0);

    await counters.release(refused);

    expect(await counters.current(ISSUER, card)).toBe(0);
    expect(await refusal(counters.claim(ISSUER, card, 0, randomUUID()))).toBe('claimed');
  });

  it('lets a push take over a claim abandoned for 5 minutes without its request ever being recorded, and only such a claim', async () => {
    const [abandoned, recorded] = [newCard(), newCard()];
    await push(abandoned, 0);
    const recordedCommand = await push(recorded, 0);
    await database.pool.query(
      `INSERT INTO intake_requests (id, command_id, vendor, operation, card_id, caller, request_fingerprint, status) VALUES ($1, $2, 'pismo', 'change_pin', $3, 'thales-d1:test', 'fingerprint', 'accepted')`,
      [randomUUID(), recordedCommand, recorded],
    );
    const ageClaims = (minutes: number) => database.pool.query(`UPDATE d1_pin_change_counters SET in_flight_since = now() - make_interval(mins => $1) WHERE card_id = ANY($2)`, [minutes, [abandoned, recorded]]);

    await ageClaims(4);
    expect(await refusal(counters.claim(ISSUER, abandoned, 0, randomUUID()))).toBe('409 PIN_CHANGE_IN_PROGRESS');

    await ageClaims(6);
    expect(await refusal(counters.claim(ISSUER, abandoned, 0, randomUUID()))).toBe('claimed');
    expect(await refusal(counters.claim(ISSUER, recorded, 0, randomUUID()))).toBe('409 PIN_CHANGE_IN_PROGRESS');
  });

  it('settles only outcomes from the processors D1 pushes to', async () => {
    const card = newCard();
    const commandId = await push(card, 0);

    await counters.settle([completed(card, commandId, 'solaris')]);

    expect(await refusal(counters.claim(ISSUER, card, 0, randomUUID()))).toBe('409 PIN_CHANGE_IN_PROGRESS');
  });

  it('keeps one counter per issuer and card', async () => {
    const card = newCard();
    await counters.settle([completed(card, await push(card, 0))]);

    expect(await counters.current('ISSUER0002', card)).toBe(0);
  });

  describe('a success of a push the card no longer holds (its dead letter replayed after it failed)', () => {
    /** What operators are told: the log lines' messages and fields. */
    let warnings: jest.SpyInstance;
    /** A push that failed, freeing its card: an operator may replay its dead letter, and it may then succeed. */
    const failedPush = async (cardId: string, counter: number) => {
      const commandId = await push(cardId, counter);
      await counters.settle([failed(cardId, commandId, 'VENDOR_UNAVAILABLE')]);
      return commandId;
    };
    const successesOf = async (cardId: string) =>
      (await database.pool.query(`SELECT command_id, change_counter::int, counted, stale_command_id FROM d1_pin_push_successes WHERE issuer_id = $1 AND card_id = $2 ORDER BY recorded_at, command_id`, [ISSUER, cardId])).rows;

    beforeEach(() => {
      warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    });

    afterEach(() => warnings.mockRestore());

    it('moves the counter on once for a push that failed and then succeeded, and leaves the card free', async () => {
      const card = newCard();
      const replayed = await failedPush(card, 0);
      expect(await counters.current(ISSUER, card)).toBe(0);

      await counters.settle([completed(card, replayed)]);

      expect(await counters.current(ISSUER, card)).toBe(1);
      expect(await refusal(counters.claim(ISSUER, card, 1, randomUUID()))).toBe('claimed');
      expect(warnings).not.toHaveBeenCalled();
    });

    it('counts such a success once however often it is delivered, in one batch, in another, or in two at once, and leaves the next push alone', async () => {
      const card = newCard();
      const replayed = await failedPush(card, 0);

      await counters.settle([completed(card, replayed), completed(card, replayed)]);
      await Promise.all([counters.settle([completed(card, replayed)]), counters.settle([completed(card, replayed)])]);
      const next = await push(card, 1);
      await counters.settle([completed(card, replayed)]);

      expect(await counters.current(ISSUER, card)).toBe(1);
      expect(await refusal(counters.claim(ISSUER, card, 1, randomUUID()))).toBe('409 PIN_CHANGE_IN_PROGRESS');
      await counters.settle([completed(card, next)]);
      expect(await counters.current(ISSUER, card)).toBe(2);
      expect(warnings).not.toHaveBeenCalled();
    });

    it('leaves the counter for a success whose counter the card has moved past: its block was stale, which operators are told by ids', async () => {
      const card = newCard();
      const replayed = await failedPush(card, 0);
      await counters.settle([completed(card, await push(card, 0))]);

      await counters.settle([completed(card, replayed)]);
      await counters.settle([completed(card, replayed)]);

      expect(await counters.current(ISSUER, card)).toBe(1);
      expect(await successesOf(card)).toEqual(expect.arrayContaining([{ command_id: replayed, change_counter: 0, counted: false, stale_command_id: null }]));
      expect(warnings).toHaveBeenCalledTimes(1);
      expect(warnings).toHaveBeenCalledWith({ commandId: replayed, issuerId: ISSUER, cardId: card, changeCounter: 0 }, expect.stringContaining('card had moved past'));
    });

    describe('while a newer push computed with the same counter holds the card', () => {
      it('moves the counter on for the replayed push and keeps the newer one in flight, whose success then frees the card without moving the counter again', async () => {
        const card = newCard();
        const replayed = await failedPush(card, 0);
        const newer = await push(card, 0);

        await counters.settle([completed(card, replayed)]);

        expect(await counters.current(ISSUER, card)).toBe(1);
        expect(await refusal(counters.claim(ISSUER, card, 1, randomUUID()))).toBe('409 PIN_CHANGE_IN_PROGRESS');
        expect(warnings).toHaveBeenCalledWith({ commandId: replayed, issuerId: ISSUER, cardId: card, changeCounter: 0, staleCommandId: newer }, expect.stringContaining('will not move it again'));

        await counters.settle([completed(card, newer)]);

        expect(await counters.current(ISSUER, card)).toBe(1);
        expect(await refusal(counters.claim(ISSUER, card, 1, randomUUID()))).toBe('claimed');
        expect(await successesOf(card)).toEqual([
          { command_id: replayed, change_counter: 0, counted: true, stale_command_id: newer },
          { command_id: newer, change_counter: 0, counted: false, stale_command_id: null },
        ]);
      });

      it('settles both in order when their successes arrive in one batch', async () => {
        const card = newCard();
        const replayed = await failedPush(card, 0);
        const newer = await push(card, 0);

        await counters.settle([completed(card, replayed), completed(card, newer)]);

        expect(await counters.current(ISSUER, card)).toBe(1);
        expect(await successesOf(card)).toEqual(expect.arrayContaining([expect.objectContaining({ command_id: replayed, counted: true, stale_command_id: newer }), expect.objectContaining({ command_id: newer, counted: false })]));
        expect(await refusal(counters.claim(ISSUER, card, 1, randomUUID()))).toBe('claimed');
      });

      it('frees the card when the newer push fails, the counter staying where the replayed push moved it', async () => {
        const card = newCard();
        const replayed = await failedPush(card, 0);
        const newer = await push(card, 0);

        await counters.settle([completed(card, replayed), failed(card, newer, 'VENDOR_REJECTED')]);

        expect(await counters.current(ISSUER, card)).toBe(1);
        expect(await refusal(counters.claim(ISSUER, card, 1, randomUUID()))).toBe('claimed');
      });
    });

    it('still settles a push claimed before pushes were recorded (an older intake during a rolling deploy) while its card holds it', async () => {
      const card = newCard();
      const unrecorded = await push(card, 0);
      await database.pool.query('DELETE FROM d1_pin_pushes WHERE command_id = $1', [unrecorded]);

      await counters.settle([completed(card, unrecorded)]);

      expect(await counters.current(ISSUER, card)).toBe(1);
      expect(await refusal(counters.claim(ISSUER, card, 1, randomUUID()))).toBe('claimed');
    });
  });
});
