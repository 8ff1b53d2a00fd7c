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
});
