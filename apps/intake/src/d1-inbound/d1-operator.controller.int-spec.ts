import { OPERATOR_SCOPE, REQUIRED_SCOPES_METADATA, type AuthenticatedPrincipal } from '@pinflow/auth';
import { createDatabase, Database } from '@pinflow/db';
import { ProblemException, ZodValidationPipe } from '@pinflow/http';
import { testEnv } from '@pinflow/testing';
import { randomUUID } from 'node:crypto';
import { D1ChangeCounters } from './change-counters';
import { D1OperatorController, pushSettlementRequest } from './d1-operator.controller';
import { completed, failed } from './push-outcomes.spec-support';

/** An operator settling a D1 push of unknown outcome, against intake's tables in the real database. */
describe('D1OperatorController: settling a push whose outcome is unknown', () => {
  const ISSUER = 'ISSUER0001';
  const operator: AuthenticatedPrincipal = { subject: 'pinflow-ops:alice', scopes: new Set([OPERATOR_SCOPE]) };
  let database: Database;
  let counters: D1ChangeCounters;
  let controller: D1OperatorController;
  const newCard = () => `card-${randomUUID()}`;
  /** A push of the card, computed with its current counter, whose outcome came back unknown: it holds the card. */
  const heldPush = async (cardId: string) => {
    const commandId = randomUUID();
    await counters.claim(ISSUER, cardId, await counters.current(ISSUER, cardId), commandId);
    await counters.settle([failed(cardId, commandId, 'OUTCOME_UNKNOWN')]);
    return commandId;
  };
  const settle = (cardId: string, commandId: string, succeeded: boolean) => controller.settle({ issuerId: ISSUER, cardId, commandId, succeeded }, operator);
  /** The problem an operator gets back, as `status code`. */
  const refusal = (settlement: Promise<unknown>) =>
    settlement.then(
      () => 'settled',
      (error: unknown) => (error instanceof ProblemException ? `${error.problem.status} ${error.problem.code}` : Promise.reject(error)),
    );
  /** Whether D1's next push with the card's current counter gets through. */
  const cardIsFree = async (cardId: string) => {
    const commandId = randomUUID();
    return counters.claim(ISSUER, cardId, await counters.current(ISSUER, cardId), commandId).then(
      () => counters.release(commandId).then(() => true),
      () => false,
    );
  };

  beforeAll(() => {
    database = createDatabase(testEnv().databaseUrl, 4);
    counters = new D1ChangeCounters(database.pool, ['pismo']);
    controller = new D1OperatorController(counters);
  });

  afterAll(() => database.pool.end());

  it('is for operators only', () => {
    expect(Reflect.getMetadata(REQUIRED_SCOPES_METADATA, D1OperatorController)).toEqual([OPERATOR_SCOPE]);
  });

  it('moves the counter on by one for a change the processor applied, and frees the card', async () => {
    const card = newCard();
    const commandId = await heldPush(card);
    expect(await cardIsFree(card)).toBe(false);

    const settlement = await settle(card, commandId, true);

    expect(settlement).toEqual({ commandId, succeeded: true, changeCounter: 1, staleChangeCounter: false, settledBy: 'pinflow-ops:alice', settledAt: expect.any(String), repeated: false });
    expect(await counters.current(ISSUER, card)).toBe(1);
    expect(await cardIsFree(card)).toBe(true);
  });

  it('leaves the counter where it was for a change the processor did not apply, and frees the card', async () => {
    const card = newCard();
    const commandId = await heldPush(card);

    expect(await settle(card, commandId, false)).toMatchObject({ succeeded: false, changeCounter: 0, repeated: false });
    expect(await counters.current(ISSUER, card)).toBe(0);
    expect(await cardIsFree(card)).toBe(true);
  });

  it('answers the same settlement sent again as before, without moving the counter twice', async () => {
    const card = newCard();
    const commandId = await heldPush(card);
    const first = await settle(card, commandId, true);

    const again = await settle(card, commandId, true);

    expect(again).toEqual({ ...first, repeated: true });
    expect(await counters.current(ISSUER, card)).toBe(1);
  });

  it('refuses to settle a settled push the other way (409 D1_PUSH_SETTLED_OTHERWISE), changing nothing', async () => {
    const card = newCard();
    const commandId = await heldPush(card);
    await settle(card, commandId, true);

    expect(await refusal(settle(card, commandId, false))).toBe('409 D1_PUSH_SETTLED_OTHERWISE');
    expect(await counters.current(ISSUER, card)).toBe(1);
  });

  it('refuses with 409 D1_NO_PUSH_IN_FLIGHT a card that holds no push: never pushed to, or its push settled by its outcome event', async () => {
    const settledByEvent = newCard();
    const commandId = randomUUID();
    await counters.claim(ISSUER, settledByEvent, 0, commandId);
    await counters.settle([completed(settledByEvent, commandId)]);

    expect(await refusal(settle(newCard(), randomUUID(), true))).toBe('409 D1_NO_PUSH_IN_FLIGHT');
    expect(await refusal(settle(settledByEvent, commandId, true))).toBe('409 D1_NO_PUSH_IN_FLIGHT');
    expect(await counters.current(ISSUER, settledByEvent)).toBe(1);
  });

  it('refuses with 409 D1_ANOTHER_PUSH_IN_FLIGHT a command the card does not hold, naming the one it holds, and keeps it held', async () => {
    const card = newCard();
    const holding = await heldPush(card);

    const refused = await controller.settle({ issuerId: ISSUER, cardId: card, commandId: randomUUID(), succeeded: true }, operator).catch((error: ProblemException) => error.problem);

    expect(refused).toMatchObject({ status: 409, code: 'D1_ANOTHER_PUSH_IN_FLIGHT', inFlightCommandId: holding });
    expect(await counters.current(ISSUER, card)).toBe(0);
    expect(await cardIsFree(card)).toBe(false);
  });

  describe('and a success of the same push after all (its dead letter replayed)', () => {
    it('counts a push once that the operator settled as succeeded and whose replay then succeeds too, or that both settle at once', async () => {
      const [afterwards, atOnce] = [newCard(), newCard()];
      const [settledFirst, racing] = [await heldPush(afterwards), await heldPush(atOnce)];

      await settle(afterwards, settledFirst, true);
      await counters.settle([completed(afterwards, settledFirst)]);
      await Promise.all([refusal(settle(atOnce, racing, true)), counters.settle([completed(atOnce, racing)])]);

      expect([await counters.current(ISSUER, afterwards), await counters.current(ISSUER, atOnce)]).toEqual([1, 1]);
      expect([await cardIsFree(afterwards), await cardIsFree(atOnce)]).toEqual([true, true]);
    });

    it('moves the counter on for a push the operator settled as failed and whose replay then succeeds', async () => {
      const card = newCard();
      const commandId = await heldPush(card);
      await settle(card, commandId, false);

      await counters.settle([completed(card, commandId)]);

      expect(await counters.current(ISSUER, card)).toBe(1);
    });

    it('leaves the counter for a push settled as succeeded after a replayed push with the same counter succeeded, and says its block was stale', async () => {
      const card = newCard();
      const replayed = randomUUID();
      await counters.claim(ISSUER, card, 0, replayed);
      await counters.settle([failed(card, replayed, 'VENDOR_UNAVAILABLE')]);
      const held = await heldPush(card);
      await counters.settle([completed(card, replayed)]);

      const settlement = await settle(card, held, true);

      expect(settlement).toMatchObject({ succeeded: true, changeCounter: 1, staleChangeCounter: true, repeated: false });
      expect(await settle(card, held, true)).toMatchObject({ changeCounter: 1, staleChangeCounter: true, repeated: true });
      expect(await counters.current(ISSUER, card)).toBe(1);
      expect(await cardIsFree(card)).toBe(true);
    });
  });

  it('refuses a body without a command id, with a decision that is not a boolean, or with fields it does not know (400 VALIDATION_FAILED)', () => {
    const pipe = new ZodValidationPipe(pushSettlementRequest);
    const valid = { issuerId: ISSUER, cardId: 'card-1', commandId: randomUUID(), succeeded: true };
    const problemOf = (body: unknown) => {
      try {
        pipe.transform(body);
        return 'accepted';
      } catch (error) {
        return `${(error as ProblemException).problem.status} ${(error as ProblemException).problem.code}`;
      }
    };

    expect(problemOf(valid)).toBe('accepted');
    for (const body of [{ ...valid, commandId: undefined }, { ...valid, commandId: 'not-a-uuid' }, { ...valid, succeeded: 'yes' }, { ...valid, counter: 2 }, { ...valid, cardId: 'card/1' }]) {
      expect(problemOf(body)).toBe('400 VALIDATION_FAILED');
    }
  });
});
