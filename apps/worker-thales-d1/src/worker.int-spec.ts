import { commandTopic, EVENT_TYPES, EVENTS_TOPIC, PinflowEvent, ThalesD1ChangePinCommand, thalesD1ChangePinCommand } from '@pinflow/contracts';
import type { PrismaClient } from '@pinflow/db';
import { JsonProducer } from '@pinflow/kafka';
import { encodeIso0 } from '@pinflow/pin-block';
import { generatePinKeyRing, PinKeyRing, sealForCommand, writePinKeyRingFile } from '@pinflow/pin-crypto';
import { leakedDigits, SandboxClient } from '@pinflow/sandbox-kit';
import { freePort, ServiceProcess, testCommand, TopicRecorder, waitFor } from '@pinflow/testing';
import { WorkerSetup, WorkerUnderTest } from '@pinflow/worker-kit/testing';
import { exportJWK, generateKeyPair } from 'jose';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const COMMANDS = commandTopic('thales-d1');
const ISSUER = 'ISSUERIT01';
const CLIENT = { id: 'd1-worker-it', secret: 'd1-worker-it-secret' };
const MAX_ATTEMPTS = 3;
const HTTP_TIMEOUT_MS = 3000;
/** How long the timeout drill slows every CMS call, so it can be switched on and off between two of them. */
const DRILL_LATENCY_MS = 1000;

// Every PIN and PAN this suite encrypts; none may appear in a log line, a Kafka message or a row.
const PINS = { iso0: '739164', seccos: '582047', wrongPan: '904317', unknownCard: '630958', drilled: '815263', twice: '370851', marker: '461938', appliedUnanswered: '526093', unappliedUnanswered: '948172' };
const PANS = { card: '4761739001010119', wrong: '4761739001017342' };

/**
 * The worker and the CMS sandbox as their own processes, over real HTTP, with the real broker and
 * database: commands go in on the command topic, outcomes come out on the events topic, and the
 * sandbox says which PIN arrived.
 */
describe('worker-thales-d1 against the CMS sandbox, a real broker and a real database', () => {
  let suite: WorkerUnderTest;
  let work: string;
  let sandboxProcess: ServiceProcess;
  let worker: ServiceProcess;
  let sandbox: SandboxClient;
  let workerUrl: string;
  let keyRing: PinKeyRing;
  let producer: JsonProducer;
  let recorder: TopicRecorder;
  let prisma: PrismaClient;
  let workerEnv: Record<string, string>;
  // What the clear PIN blocks the CMS received look like; they give the PIN away as much as the PIN.
  // A Seccos block's fill is random: its control nibble, length and PIN are what can be searched for.
  const clearBlocks: string[] = [];

  const newCard = () => `it-${randomUUID().slice(0, 8)}`;

  async function seed(cardId: string, card: Record<string, unknown> = {}): Promise<void> {
    expect((await sandbox.call('PUT', `/sandbox/cards/${cardId}`, { body: { pan: PANS.card, ...card } })).status).toBe(200);
  }

  async function changePin(cardId: string, pin: string, pinBlockFormat: ThalesD1ChangePinCommand['pinBlockFormat'], pan = PANS.card): Promise<ThalesD1ChangePinCommand> {
    clearBlocks.push(pinBlockFormat === 'ISO0' ? encodeIso0(pin, pan) : `1${pin.length.toString(16)}${pin}`.toUpperCase());
    const command = testCommand(thalesD1ChangePinCommand, { vendor: 'thales-d1', operation: 'change_pin', cardId, issuerId: ISSUER, pinBlockFormat, encryptedPin: 'a.b.c.d.e', encryptedPan: 'a.b.c.d.e' });
    return { ...command, encryptedPin: await sealForCommand('pin', pin, keyRing, command), encryptedPan: await sealForCommand('pan', pan, keyRing, command) };
  }

  async function send(...commands: ThalesD1ChangePinCommand[]): Promise<void> {
    await producer.send(COMMANDS, thalesD1ChangePinCommand, commands.map((command) => ({ key: command.cardId, value: command })));
  }

  const nextEvent = (cardId: string, type: string) => recorder.waitForJson<PinflowEvent>(EVENTS_TOPIC, (event) => event.subject === cardId && event.type === type);
  const eventsFor = (cardId: string) => recorder.json<PinflowEvent>(EVENTS_TOPIC).filter((event) => event.subject === cardId);
  const callsFor = async (cardId: string) =>
    ((await sandbox.call('GET', '/sandbox/calls')).body as { method: string; path: string; cardId: string; cid: string; status: number | null }[]).filter((call) => call.cardId === cardId);
  /** The card's CMS calls as `GET changeCounter 200`, `PUT pin 204`... */
  const callSummary = async (cardId: string) => (await callsFor(cardId)).map(({ method, path: called, status }) => `${method} ${called.split('/').at(-1)} ${status}`);
  const rowOf = (command: ThalesD1ChangePinCommand) => prisma.vendorCommand.findUniqueOrThrow({ where: { commandId: command.commandId } });
  const card = async (cardId: string) => (await sandbox.call('GET', `/sandbox/cards/${cardId}`)).body;
  const verifies = async (cardId: string, pin: string) => (await sandbox.call('POST', `/sandbox/cards/${cardId}/verify-pin`, { body: { pin } })).body.matches;

  beforeAll(async () => {
    keyRing = await generatePinKeyRing();
    suite = await WorkerUnderTest.start({
      vendor: 'thales-d1',
      client: CLIENT,
      sandboxEnv: { D1_ISSUER_ID: ISSUER },
      workerEnv: async ({ sandbox: cms, work: dir }: WorkerSetup) => {
        // Onboarding: the CMS's public key reaches pinflow as a file.
        const cmsKeyFile = path.join(dir, 'cms-key.json');
        writeFileSync(cmsKeyFile, (await cms.call('GET', '/sandbox/encryption-key')).text);
        const commandKeysFile = path.join(dir, 'command-keys.json');
        await writePinKeyRingFile(commandKeysFile, keyRing);
        return {
          COMMAND_KEYS_FILE: commandKeysFile,
          THALES_D1_BASE_URL: cms.baseUrl,
          THALES_D1_TOKEN_URL: `${cms.baseUrl}/authz/d1/v1/oauth2/token`,
          THALES_D1_CLIENT_ID: CLIENT.id,
          THALES_D1_CLIENT_SECRET: CLIENT.secret,
          THALES_D1_CMS_PUBLIC_KEY_FILE: cmsKeyFile,
          THALES_D1_HTTP_TIMEOUT_MS: String(HTTP_TIMEOUT_MS),
          THALES_D1_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
          THALES_D1_RETRY_BASE_MS: '10',
        };
      },
    });
    ({ work, sandbox, sandboxProcess, worker, workerUrl, producer, recorder, prisma, workerEnv } = suite);
  }, 180_000);

  afterAll(() => suite?.stop(), 60_000);

  it('is ready once its command consumer joined its group and the database answers, and reports the CMS’s circuit', async () => {
    const response = await fetch(`${workerUrl}/health/ready`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { info: unknown }).info).toEqual({
      database: { status: 'up' },
      'command-consumer': { status: 'up' },
      'thales-d1-circuit-breaker': { status: 'up' },
    });
  });

  it('changes a PIN with an ISO0 block: a counter read and one PUT with the command id as correlation id, the CMS holds the PIN, password.changed follows', async () => {
    const cardId = newCard();
    await seed(cardId);
    const command = await changePin(cardId, PINS.iso0, 'ISO0');

    await send(command);
    const changed = await nextEvent(cardId, EVENT_TYPES.passwordChanged);

    expect(changed.data).toEqual({ vendor: 'thales-d1', requestId: command.requestId, commandId: command.commandId });
    expect(await callsFor(cardId)).toEqual([
      expect.objectContaining({ method: 'GET', cid: command.commandId, status: 200 }),
      expect.objectContaining({ method: 'PUT', cid: command.commandId, status: 204 }),
    ]);
    expect(await verifies(cardId, PINS.iso0)).toBe(true);
    expect(await card(cardId)).toMatchObject({ pinType: 'ISO0', pinChanges: 1, changeCounter: 1 });
    await waitFor('the command to be recorded as succeeded', async () => (await prisma.vendorCommand.findUnique({ where: { commandId: command.commandId } }))?.state === 'SUCCEEDED');
  });

  it('changes a PIN with a Seccos block computed with the card’s change counter, which the change moves on', async () => {
    const cardId = newCard();
    await seed(cardId, { changeCounter: 7 });
    const command = await changePin(cardId, PINS.seccos, '3DES_SECCOS');

    await send(command);
    await nextEvent(cardId, EVENT_TYPES.passwordChanged);

    expect(await callSummary(cardId)).toEqual(['GET changeCounter 200', 'PUT pin 204']);
    expect(await verifies(cardId, PINS.seccos)).toBe(true);
    expect(await card(cardId)).toMatchObject({ pinType: '3DES_SECCOS', changeCounter: 8 });
  });

  it('fails with VENDOR_REJECTED and the CMS’s code when the PAN is not the card’s: the ISO0 block does not decode', async () => {
    const cardId = newCard();
    await seed(cardId);
    const command = await changePin(cardId, PINS.wrongPan, 'ISO0', PANS.wrong);

    await send(command);
    const failed = await nextEvent(cardId, EVENT_TYPES.failed);

    expect(failed.data).toMatchObject({ commandId: command.commandId, reason: 'VENDOR_REJECTED', vendorStatus: 400, vendorError: { code: 'INVALID_PIN_BLOCK' } });
    expect(await callSummary(cardId)).toEqual(['GET changeCounter 200', 'PUT pin 400']);
    expect(await card(cardId)).toMatchObject({ pinType: null, pinChanges: 0 });
  });

  it('fails with CARD_NOT_FOUND for a card the CMS does not have', async () => {
    const cardId = newCard();
    const command = await changePin(cardId, PINS.unknownCard, '3DES_SECCOS');

    await send(command);
    const failed = await nextEvent(cardId, EVENT_TYPES.failed);

    expect(failed.data).toMatchObject({ commandId: command.commandId, reason: 'CARD_NOT_FOUND', vendorStatus: 404, vendorError: { code: 'CARD_NOT_FOUND' } });
    expect((await callsFor(cardId)).map((call) => call.method)).toEqual(['GET']);
  });

  it('retries a CMS that answers 500, then fails with VENDOR_UNAVAILABLE after the configured attempts, replayable since nothing was applied', async () => {
    const cardId = newCard();
    await seed(cardId);
    const command = await changePin(cardId, PINS.drilled, 'ISO0');
    await sandbox.setKnobs({ errorRate: 1 });
    try {
      await send(command);
      const failed = await nextEvent(cardId, EVENT_TYPES.failed);

      expect(failed.data).toMatchObject({ commandId: command.commandId, reason: 'VENDOR_UNAVAILABLE', vendorStatus: 500, vendorError: { code: 'INTERNAL' } });
    } finally {
      await sandbox.setKnobs({ errorRate: 0 });
    }
    // The counter read before each PUT is what the CMS failed.
    expect(await callSummary(cardId)).toEqual(Array(MAX_ATTEMPTS).fill('GET changeCounter 500'));
    expect(await rowOf(command)).toMatchObject({ state: 'FAILED_RETRYABLE', attempts: MAX_ATTEMPTS });
    expect(await card(cardId)).toMatchObject({ pinChanges: 0 });
  });

  /**
   * Sends the command and drills a timeout on its PUT alone, the sandbox's drill covering every CMS
   * call: all calls are slowed down, the drill is switched on once the counter read before the PUT
   * was answered, and off again once the PUT met it, well before the worker reads the counter again.
   */
  async function sendWithUnansweredPut(command: ThalesD1ChangePinCommand, timeoutApplies: boolean): Promise<void> {
    await sandbox.setKnobs({ latencyMs: DRILL_LATENCY_MS });
    try {
      await send(command);
      await waitFor('the counter read before the PUT', async () => (await callSummary(command.cardId)).includes('GET changeCounter 200'), 30_000, 20);
      await sandbox.setKnobs({ timeoutRate: 1, timeoutApplies, timeoutHoldMs: 2 * HTTP_TIMEOUT_MS });
      await waitFor('the PUT', async () => (await callsFor(command.cardId)).some((call) => call.method === 'PUT'), 30_000, 20);
      await sleep(DRILL_LATENCY_MS + 300);
    } finally {
      await sandbox.setKnobs({ latencyMs: 0, timeoutRate: 0, timeoutApplies: true });
    }
  }

  it('after a PUT that timed out when the CMS applied it, settles it by the change counter one step on: password.changed, without pushing again', async () => {
    const cardId = newCard();
    await seed(cardId, { changeCounter: 4 });
    const command = await changePin(cardId, PINS.appliedUnanswered, 'ISO0');

    await sendWithUnansweredPut(command, true);
    const changed = await nextEvent(cardId, EVENT_TYPES.passwordChanged);

    expect(changed.data).toEqual({ vendor: 'thales-d1', requestId: command.requestId, commandId: command.commandId });
    // The PUT the drill holds has no status yet, or the 504 the drill ends with.
    expect((await callSummary(cardId)).map((call) => call.replace(/^(PUT pin) (null|504)$/, '$1'))).toEqual(['GET changeCounter 200', 'PUT pin', 'GET changeCounter 200']);
    expect(await rowOf(command)).toMatchObject({ state: 'SUCCEEDED', attempts: 1, vendorStatus: 200 });
    expect(await card(cardId)).toMatchObject({ changeCounter: 5, pinChanges: 1 });
    expect(await verifies(cardId, PINS.appliedUnanswered)).toBe(true);
  });

  it('after a PUT that timed out with the change counter unmoved, does not push again (the CMS may still hold the PUT): OUTCOME_UNKNOWN', async () => {
    const cardId = newCard();
    await seed(cardId, { changeCounter: 4 });
    const command = await changePin(cardId, PINS.unappliedUnanswered, '3DES_SECCOS');

    await sendWithUnansweredPut(command, false);
    const failed = await nextEvent(cardId, EVENT_TYPES.failed);

    expect(failed.data).toMatchObject({ vendor: 'thales-d1', requestId: command.requestId, commandId: command.commandId, reason: 'OUTCOME_UNKNOWN' });
    expect((await callSummary(cardId)).map((call) => call.replace(/^(PUT pin) (null|504)$/, '$1'))).toEqual(['GET changeCounter 200', 'PUT pin', 'GET changeCounter 200']);
    expect(await rowOf(command)).toMatchObject({ state: 'FAILED', attempts: 1 });
    expect(await card(cardId)).toMatchObject({ changeCounter: 4, pinChanges: 0 });
  });

  it('calls the CMS once for a command delivered twice', async () => {
    const cardId = newCard();
    await seed(cardId);
    const command = await changePin(cardId, PINS.twice, 'ISO0');
    const marker = await changePin(cardId, PINS.marker, 'ISO0');

    // Same card, same partition: once the marker is handled, so is the duplicate before it.
    await send(command, command, marker);
    await waitFor('the marker’s outcome', async () => eventsFor(cardId).some((event) => event.data.commandId === marker.commandId));

    expect((await callsFor(cardId)).filter((call) => call.method === 'PUT').map((call) => call.cid)).toEqual([command.commandId, marker.commandId]);
    expect(eventsFor(cardId).filter((event) => event.data.commandId === command.commandId).map((event) => event.type)).toEqual([EVENT_TYPES.passwordChanged]);
    expect((await sandbox.call('GET', '/sandbox/applied')).body[command.commandId]).toEqual({ pinSets: 1 });
  });

  it('refuses to start, with exit code 78 and a message naming the setting, when the CMS key file holds a private key', async () => {
    const { privateKey } = await generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
    const privateJwk = { ...(await exportJWK(privateKey)), kid: 'cms-private' };
    const keyFile = path.join(work, 'cms-private-key.json');
    writeFileSync(keyFile, JSON.stringify(privateJwk));
    const misconfigured = suite.workerProcess('worker-thales-d1-misconfigured', { ...workerEnv, THALES_D1_CMS_PUBLIC_KEY_FILE: keyFile }, await freePort());

    misconfigured.start();
    await waitFor('the misconfigured worker to exit', async () => !misconfigured.isRunning(), 60_000);

    expect(await misconfigured.stop()).toBe(78);
    const log = readFileSync(misconfigured.logFile, 'utf8');
    expect(log).toMatch(/worker-thales-d1 refuses to start/);
    expect(log).toMatch(/THALES_D1_CMS_PUBLIC_KEY_FILE .*: jwk\.d: a private key part/);
    expect(log).not.toContain(privateJwk.d);
  });

  it('leaves no PIN, PAN or PIN block in its log, the CMS’s log, any Kafka message or its table', async () => {
    // Runs last: by now every PIN above went through the worker.
    const secretsIn = (text: string) => [...leakedDigits(text, [...Object.values(PINS), ...Object.values(PANS)]), ...clearBlocks.filter((block) => text.toUpperCase().includes(block))];
    const logs = [worker, sandboxProcess].map((service) => readFileSync(service.logFile, 'utf8')).join('\n');
    expect(logs).toContain('vendor called');
    expect(secretsIn(logs)).toEqual([]);

    const kafkaText = recorder.messages.map((message) => `${message.key} ${message.value} ${JSON.stringify(message.headers)}`).join('\n');
    expect(recorder.json(COMMANDS).length).toBeGreaterThanOrEqual(7);
    expect(secretsIn(kafkaText)).toEqual([]);

    const rows = JSON.stringify(await prisma.vendorCommand.findMany({ where: { vendor: 'thales-d1' } }));
    expect(rows).toContain('SUCCEEDED');
    expect(secretsIn(rows)).toEqual([]);
  });
});
