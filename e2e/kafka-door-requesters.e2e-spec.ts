import { EVENT_TYPES, REQUEST_SCHEMA_VERSION } from '@pinflow/contracts';
import { Stack } from '@pinflow/platform';
import { waitFor } from '@pinflow/testing';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { KafkaDoorSuite, Publishing, startKafkaDoorSuite } from './kafka-door-support';
import { readLogs } from './support';

/**
 * Registering and removing the Kafka door's requesters while intake runs: they are listed in
 * INTAKE_KAFKA_REQUESTERS_FILE, which intake reads again on an interval.
 */
describe('Kafka-door requesters from a file intake reloads', () => {
  let door: KafkaDoorSuite;
  let stack: Stack;

  beforeAll(async () => {
    door = await startKafkaDoorSuite({ apps: ['intake'], requestersFile: true, writer: 'mobile-backend', topics: [] });
    ({ stack } = door);
  }, 180_000);

  // Each case starts from both requesters registered.
  afterEach(() => door?.register([door.requester, door.other]), 60_000);
  afterAll(() => door?.stop(), 60_000);

  /** Publishes a Pismo PIN change for a new card and gives its request id. */
  async function published(publishing: Publishing): Promise<string> {
    const cardId = `card-${randomUUID().slice(0, 8)}`;
    const clientRequestId = randomUUID();
    const request = { schemaVersion: REQUEST_SCHEMA_VERSION, clientRequestId, vendor: 'pismo', operation: 'change_pin', cardId, body: { encryptedPin: await door.client.encrypt('739146') } };
    await door.publish(cardId, request, undefined, publishing);
    return clientRequestId;
  }

  it('forgets a requester removed from the file: its signature no longer verifies, and its topic is no longer read', async () => {
    await door.register([door.requester]);

    const elsewhere = await published({ signer: door.other, on: door.requester });
    const onItsTopic = await published({ signer: door.other });

    const rejected = await door.answerTo(elsewhere);
    // Not REQUESTER_MISMATCH, as while it was registered: its keys are gone with it.
    expect(rejected).toMatchObject({ type: EVENT_TYPES.rejected, data: { problem: { code: 'SIGNATURE_INVALID' } } });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(door.answersTo(onItsTopic)).toEqual([]);
  });

  it('takes requests from a requester added to the file without a restart, the one it published before included', async () => {
    await door.register([door.requester]);
    const waiting = await published({ signer: door.other });

    await door.register([door.requester, door.other]);

    expect(await door.answerTo(waiting)).toMatchObject({ type: EVENT_TYPES.accepted, data: { caller: door.other.name, clientRequestId: waiting } });
    const after = await published({ signer: door.other });
    expect(await door.answerTo(after)).toMatchObject({ type: EVENT_TYPES.accepted, data: { caller: door.other.name } });
  });

  it.each([
    ['is not JSON', '{"core-banking": '],
    ['breaks the schema', JSON.stringify({ 'core banking': { publicKeyFile: '/nowhere' } })],
    ['names a key file that cannot be read', JSON.stringify({ 'core-banking': { publicKeyFile: '/nowhere/core-banking.jwks.json' } })],
  ])('keeps the requesters in use when the file %s, and logs why', async (_case, text) => {
    const failures = () => readLogs(stack).split('\n').filter((line) => line.includes('reloading the Kafka requesters failed')).length;
    const before = failures();

    writeFileSync(door.requestersFile!, text);

    await waitFor('intake to refuse the file', async () => failures() > before || undefined);
    expect(await door.answerTo(await published({}))).toMatchObject({ type: EVENT_TYPES.accepted, data: { caller: door.requester.name } });
    expect(await door.answerTo(await published({ signer: door.other }))).toMatchObject({ type: EVENT_TYPES.accepted, data: { caller: door.other.name } });
  });
});
