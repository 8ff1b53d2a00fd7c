import { commandTopic, EVENTS_TOPIC, EVENT_TYPES } from '@pinflow/contracts';
import { encryptSecret } from '@pinflow/pin-crypto';
import { PISMO_EVENTS_TOPIC, Stack } from '@pinflow/platform';
import { iso0Block, testEnv, waitFor } from '@pinflow/testing';
import { createCipheriv, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dumpDatabase, occurrences, PinflowClient, readLogs, startSuite, Suite } from './support';

/**
 * A Pismo PIN change through Pismo's PIN block endpoint, as users see it: PIN and PAN sealed into
 * intake, the worker's ISO 9564 format 0 block under the zone PIN key it shares with the sandbox,
 * Pismo's update_password-1 back, the audit trail.
 */
describe('Pismo PIN changes from PIN blocks end to end', () => {
  // Every PIN this suite sends; none may be found outside memory afterwards, nor the PAN or any block.
  const PINS = { changed: '284719', synced: '517394', otherCard: '640285', wrongKey: '936152' };
  const PAN = '4000123412341234';
  const OTHER_PAN = '4000123412349997';
  /** The ZPK worker and sandbox share, written by the suite so that it can make the worker's key a wrong one. */
  const zpk = { keyId: `e2e-${randomUUID()}`, key: randomBytes(16).toString('hex').toUpperCase() };
  const zpkFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'pinflow-e2e-zpk-')), 'zpk.json');

  let suite: Suite;
  let stack: Stack;
  let client: PinflowClient;
  const newCard = () => `card-${randomUUID().slice(0, 8)}`;

  /** The clear format 0 block of `pin` for `pan`, and it enciphered under `key`: built here, so the search does not trust pinflow's code. */
  function blocks(pin: string, pan: string, key = zpk.key): string[] {
    const clear = Buffer.from(iso0Block(pin, pan), 'hex');
    const cipher = createCipheriv('des-ede-ecb', Buffer.from(key, 'hex'), null).setAutoPadding(false);
    return [clear.toString('hex').toUpperCase(), Buffer.concat([cipher.update(clear), cipher.final()]).toString('hex').toUpperCase()];
  }

  async function updateFromBlock(cardId: string, pin: string, pan: string, syncOfflinePin?: boolean) {
    const key = stack.secrets.pinKeyRing.currentPublicJwk;
    const body = { encryptedPin: await encryptSecret('pin', pin, key), encryptedPan: await encryptSecret('pan', pan, key), ...(syncOfflinePin === undefined ? {} : { syncOfflinePin }) };
    const accepted = await client.submit(`/v1/pismo/cards/${cardId}/pin-block`, body);
    expect(accepted.status).toBe(202);
    return client.outcome(accepted.body.requestId);
  }

  const verifies = async (cardId: string, pin: string) => (await client.sandbox('POST', `/sandbox/cards/${cardId}/verify-pin`, { pin })).body.matches;

  beforeAll(async () => {
    writeFileSync(zpkFile, JSON.stringify(zpk));
    suite = await startSuite({
      apps: ['intake', 'audit', 'sandbox-pismo', 'worker-pismo'],
      env: { 'worker-pismo': { PISMO_ZPK_FILE: zpkFile, PISMO_RETRY_BASE_MS: '50' }, 'sandbox-pismo': { PISMO_ZPK_FILE: zpkFile } },
      writer: 'mobile-backend',
      topics: [commandTopic('pismo'), EVENTS_TOPIC, PISMO_EVENTS_TOPIC],
    });
    ({ stack, client } = suite);
  }, 180_000);

  afterAll(() => suite?.stop(), 60_000);

  it('changes the PIN: succeeded with password.changed, Pismo holds the new PIN, and the audit trail has both events', async () => {
    const cardId = newCard();
    await client.seedCard(cardId, { pan: PAN });

    const outcome = await updateFromBlock(cardId, PINS.changed, PAN);

    expect(outcome.status).toBe('succeeded');
    expect(await verifies(cardId, PINS.changed)).toBe(true);
    const history = await waitFor('the audit trail of the request', async () => {
      const result = await client.auditRequest(outcome.requestId);
      return result.body.status === 'succeeded' ? result.body : undefined;
    });
    expect(history.events.map((event: { type: string }) => event.type)).toEqual([EVENT_TYPES.accepted, EVENT_TYPES.passwordChanged]);
    expect(history.events[0].data.operation).toBe('update_pin_block');
  });

  it('with syncOfflinePin, has Pismo write the new PIN to the chip too', async () => {
    const cardId = newCard();
    await client.seedCard(cardId, { pan: PAN });

    const outcome = await updateFromBlock(cardId, PINS.synced, PAN, true);

    expect(outcome.events.find((event: { type: string }) => event.type === EVENT_TYPES.passwordChanged).data).toMatchObject({ syncOfflinePin: true });
    await client.sandbox('POST', `/sandbox/cards/${cardId}/contact-authorization`);
    expect((await client.sandbox('POST', `/sandbox/cards/${cardId}/verify-offline-pin`, { pin: PINS.synced })).body).toEqual({ matches: true });
  });

  it("fails a block made with another card's PAN: VENDOR_REJECTED, and the card keeps its PIN", async () => {
    const cardId = newCard();
    await client.seedCard(cardId, { pan: PAN });
    expect((await updateFromBlock(cardId, PINS.changed, PAN)).status).toBe('succeeded');

    const outcome = await updateFromBlock(cardId, PINS.otherCard, OTHER_PAN);

    expect(outcome.status).toBe('failed');
    expect(outcome.events.find((event: { type: string }) => event.type === EVENT_TYPES.failed).data).toMatchObject({ operation: 'update_pin_block', reason: 'VENDOR_REJECTED' });
    expect(await verifies(cardId, PINS.changed)).toBe(true);
    expect((await client.sandbox('GET', `/sandbox/cards/${cardId}`)).body.pinBlockRefusals).toEqual([{ at: expect.any(String), problem: 'PAN_MISMATCH' }]);
  });

  it('fails every block once the worker holds a ZPK other than Pismo’s under the same id', async () => {
    const cardId = newCard();
    await client.seedCard(cardId, { pan: PAN });
    writeFileSync(zpkFile, JSON.stringify({ ...zpk, key: randomBytes(16).toString('hex').toUpperCase() }));
    await stack.restart('worker-pismo');

    const outcome = await updateFromBlock(cardId, PINS.wrongKey, PAN);

    expect(outcome.status).toBe('failed');
    expect(outcome.events.find((event: { type: string }) => event.type === EVENT_TYPES.failed).data).toMatchObject({ operation: 'update_pin_block', reason: 'VENDOR_REJECTED' });
    expect(await verifies(cardId, PINS.wrongKey)).toBe(false);
  });

  it('leaves no PIN, PAN or PIN block in any topic, service log or database row', async () => {
    const secrets = [...Object.values(PINS), PAN, OTHER_PAN, ...blocks(PINS.changed, PAN), ...blocks(PINS.synced, PAN), ...blocks(PINS.otherCard, OTHER_PAN)];
    // Let in-flight work finish so that its logs and rows are part of the search.
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const kafkaText = suite.recorder.messages.map((message) => `${message.key} ${message.value} ${JSON.stringify(message.headers)}`).join('\n');
    expect(suite.recorder.messages.length).toBeGreaterThan(10);
    expect(occurrences(kafkaText, secrets)).toEqual([]);
    const logs = readLogs(stack);
    expect(logs).toContain('/pinblock');
    expect(occurrences(logs, secrets)).toEqual([]);
    const rows = await dumpDatabase(testEnv().databaseUrl);
    expect(rows).toContain('update_pin_block');
    expect(occurrences(rows, secrets)).toEqual([]);
  });
});
