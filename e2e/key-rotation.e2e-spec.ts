import { commandTopic, EVENTS_TOPIC, PISMO_PIN_RULES } from '@pinflow/contracts';
import { encryptPin, type PinPublicJwk } from '@pinflow/pin-crypto';
import { checkPin } from '@pinflow/pin-policy';
import { rotateDevKeyRing } from '@pinflow/platform';
import { waitFor } from '@pinflow/testing';
import { decodeProtectedHeader } from 'jose';
import { randomInt, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { http, readLogs, shortPinOccurrences, startSuite, Suite } from './support';

/**
 * Every key rotated while PIN changes flow: the caller-facing PIN key ring (intake) and Pismo's
 * command key ring (worker-pismo, its public half in intake), each file replaced by one holding only
 * a new key, as an operator replacing a Secret would. No service restarts and no change is lost:
 * callers still holding the old public key, and commands sealed to the old command key, still go through.
 */
describe('Key rotation without downtime', () => {
  const COMMAND_TOPIC = commandTopic('pismo');
  const PINS: string[] = [];
  let suite: Suite;

  /** A PIN Pismo's rules accept, different from every other this suite used. */
  function newPin(): string {
    for (;;) {
      const pin = String(randomInt(100_000, 1_000_000));
      if (checkPin(pin, PISMO_PIN_RULES).ok && !PINS.includes(pin)) {
        PINS.push(pin);
        return pin;
      }
    }
  }

  async function callerKey(): Promise<PinPublicJwk> {
    const { body } = await http<{ keys: PinPublicJwk[] }>('GET', `${suite.stack.urls.intake}/v1/pin-keys`);
    return body.keys[0];
  }

  /** A change from a caller that encrypts to `key` (the one it fetched, perhaps a while ago); resolves to its request id once accepted. */
  async function change(key: PinPublicJwk): Promise<{ requestId: string; cardId: string; pin: string }> {
    const cardId = `card-${randomUUID().slice(0, 8)}`;
    const pin = newPin();
    await suite.client.seedCard(cardId);
    const accepted = await suite.client.changePin(cardId, { encryptedPin: await encryptPin(pin, key) });
    expect(accepted.status).toBe(202);
    return { requestId: accepted.body.requestId, cardId, pin };
  }

  const commandOf = (cardId: string) => suite.recorder.json<{ cardId: string; commandId: string; encryptedPin?: string }>(COMMAND_TOPIC).find((command) => command.cardId === cardId && command.encryptedPin);
  const commandKidOf = (cardId: string) => {
    const command = commandOf(cardId);
    return command && decodeProtectedHeader(command.encryptedPin!).kid;
  };

  beforeAll(async () => {
    // Files are read again twice a second, so the test sees a rotation taken up within moments.
    const fastReload = { KEYS_RELOAD_INTERVAL_MS: '500' };
    suite = await startSuite({
      apps: ['sandbox-pismo', 'worker-pismo', 'audit', 'intake'],
      // One command at a time, so that a burst sealed to the old command key is still being worked off once the worker took up the new one.
      env: { intake: fastReload, 'worker-pismo': { ...fastReload, PISMO_RETRY_BASE_MS: '50', WORKER_COMMANDS_IN_FLIGHT: '1' } },
      writer: 'rotating-backend',
      topics: [COMMAND_TOPIC, EVENTS_TOPIC],
    });
  }, 180_000);

  afterAll(() => suite?.stop(), 60_000);

  it('loses no PIN change before, during or after every key is replaced, and no PIN reaches a log', async () => {
    const { stack } = suite;
    const pismoKeys = stack.secrets.commandKeys.pismo!;
    const oldCallerKey = await callerKey();
    const oldCommandKid = pismoKeys.ring.currentKid;

    const before = await Promise.all([1, 2, 3].map(() => change(oldCallerKey)));

    // A burst in flight while both files are replaced: its commands are sealed to the old command key,
    // and Pismo answering slowly holds them back until the worker has read its new file.
    await suite.client.sandbox('PUT', '/sandbox/knobs', { latencyMs: 300 });
    const burst = Array.from({ length: 12 }, () => change(oldCallerKey));
    const [newCaller, newCommand] = await Promise.all([rotateDevKeyRing({ file: stack.secrets.pinKeysFile, ring: stack.secrets.pinKeyRing }), rotateDevKeyRing(pismoKeys)]);
    const during = await Promise.all(burst);
    await suite.client.sandbox('PUT', '/sandbox/knobs', { latencyMs: 0 });
    // A caller that cached the old public key keeps using it for a while: the grace period covers it.
    during.push(await change(oldCallerKey));

    await waitFor('intake serves the new caller-facing key', async () => (await callerKey()).kid === newCaller.currentKid || undefined, 15_000);
    const after = [await change(await callerKey()), await change(await callerKey())];
    // intake seals to the new command key once it has read the new public half.
    await waitFor('intake seals to the new command key', async () => {
      const probe = await change(await callerKey());
      after.push(probe);
      await waitFor(`the command of ${probe.cardId}`, async () => commandKidOf(probe.cardId));
      return commandKidOf(probe.cardId) === newCommand.currentKid || undefined;
    }, 20_000);

    const all = [...before, ...during, ...after];
    const outcomes = await Promise.all(all.map(({ requestId }) => suite.client.outcome(requestId, 60_000)));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(all.map(() => 'succeeded'));
    for (const { cardId, pin } of all) {
      expect((await suite.client.sandbox('POST', `/sandbox/cards/${cardId}/verify-pin`, { pin })).body).toEqual({ matches: true });
    }
    expect(before.map(({ cardId }) => commandKidOf(cardId))).toEqual(before.map(() => oldCommandKid));
    expect(commandKidOf(after.at(-1)!.cardId)).toBe(newCommand.currentKid);
    // Some commands sealed to the old command key were opened after the worker had dropped that key from its file.
    const workerLog = readFileSync(stack.services['worker-pismo'].logFile, 'utf8').split('\n');
    const reloaded = workerLog.findIndex((line) => line.includes('"msg":"key file reloaded"'));
    const receivedAt = (commandId: string) => workerLog.findIndex((line) => line.includes('"msg":"command received"') && line.includes(commandId));
    expect(reloaded).toBeGreaterThan(-1);
    expect(during.filter(({ cardId }) => commandKidOf(cardId) === oldCommandKid && receivedAt(commandOf(cardId)!.commandId) > reloaded).length).toBeGreaterThan(0);
    expect(shortPinOccurrences(readLogs(stack), PINS)).toEqual([]);
  }, 180_000);
});
