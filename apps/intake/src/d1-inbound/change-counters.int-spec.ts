import { createDatabase, Database } from '@pinflow/db';
import { testEnv } from '@pinflow/testing';
import { randomUUID } from 'node:crypto';
import { D1ChangeCounters } from './change-counters';

/** Each card's Seccos PIN change counter, in intake's own table of the real database. */
describe('D1ChangeCounters', () => {
  const ISSUER = 'ISSUER0001';
  let database: Database;
  let counters: D1ChangeCounters;
  const newCard = () => `card-${randomUUID()}`;
  const refusal = (claim: Promise<unknown>) => claim.then(() => 'claimed', (error: { getStatus(): number; getResponse(): { errorCode: string } }) => `${error.getStatus()} ${error.getResponse().errorCode}`);

  beforeAll(() => {
    database = createDatabase(testEnv().databaseUrl, 4);
    counters = new D1ChangeCounters(database.pool);
  });

  afterAll(() => database.pool.end());

  it('starts a card never pushed to at 0, and moves it on by one for each push with the current value', async () => {
    const card = newCard();
    expect(await counters.current(ISSUER, card)).toBe(0);

    expect(await counters.claim(ISSUER, card, 0, 'c-1')).toEqual({ moved: true });
    expect(await counters.claim(ISSUER, card, 1, undefined)).toEqual({ moved: true });

    expect(await counters.current(ISSUER, card)).toBe(2);
  });

  it('refuses any other value as stale with 409 STALE_CHANGE_COUNTER, a replayed one and one ahead alike', async () => {
    const card = newCard();
    await counters.claim(ISSUER, card, 0, 'c-1');

    expect(await refusal(counters.claim(ISSUER, card, 0, 'c-2'))).toBe('409 STALE_CHANGE_COUNTER');
    expect(await refusal(counters.claim(ISSUER, card, 5, 'c-3'))).toBe('409 STALE_CHANGE_COUNTER');
    // A card never pushed to is at 0.
    expect(await refusal(counters.claim(ISSUER, newCard(), 3, 'c-4'))).toBe('409 STALE_CHANGE_COUNTER');
    expect(await counters.current(ISSUER, card)).toBe(1);
  });

  it('recognises the retry of the push that moved the counter, by its correlation id, without moving it again', async () => {
    const card = newCard();
    await counters.claim(ISSUER, card, 0, 'c-1');

    expect(await counters.claim(ISSUER, card, 0, 'c-1')).toEqual({ moved: false });
    expect(await refusal(counters.claim(ISSUER, card, 0, undefined))).toBe('409 STALE_CHANGE_COUNTER');
    expect(await counters.current(ISSUER, card)).toBe(1);
  });

  it('lets one of several racing pushes with the same counter win', async () => {
    const card = newCard();

    const outcomes = await Promise.all(['c-1', 'c-2', 'c-3'].map((correlationId) => refusal(counters.claim(ISSUER, card, 0, correlationId))));

    expect(outcomes.sort()).toEqual(['409 STALE_CHANGE_COUNTER', '409 STALE_CHANGE_COUNTER', 'claimed']);
    expect(await counters.current(ISSUER, card)).toBe(1);
  });

  it('gives back a counter its push moved, but not one another push moved on since', async () => {
    const [released, movedOn] = [newCard(), newCard()];
    await counters.claim(ISSUER, released, 0, 'c-1');
    await counters.claim(ISSUER, movedOn, 0, 'c-1');
    await counters.claim(ISSUER, movedOn, 1, 'c-2');

    await counters.release(ISSUER, released, 0, 'c-1');
    await counters.release(ISSUER, movedOn, 0, 'c-1');

    expect(await counters.current(ISSUER, released)).toBe(0);
    expect(await counters.current(ISSUER, movedOn)).toBe(2);
  });

  it('keeps one counter per issuer and card', async () => {
    const card = newCard();
    await counters.claim(ISSUER, card, 0, 'c-1');

    expect(await counters.current('ISSUER0002', card)).toBe(0);
  });
});
