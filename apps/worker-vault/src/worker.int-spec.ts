import { commandTopic, EventData, EVENT_TYPES, EVENTS_TOPIC, PinflowEvent, VaultCommand, vaultCommand, VaultSetPasscodeCommand } from '@pinflow/contracts';
import type { PrismaClient } from '@pinflow/db';
import { DEAD_LETTER_TOPIC, JsonProducer } from '@pinflow/kafka';
import { generatePinKeyRing, PinKeyRing, sealForCommand, writePinKeyRingFile } from '@pinflow/pin-crypto';
import { leakedDigits } from '@pinflow/sandbox-kit';
import { ServiceProcess, TopicRecorder, waitFor } from '@pinflow/testing';
import { WorkerSetup, WorkerUnderTest } from '@pinflow/worker-kit/testing';
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sealedCheckCodeCommand, sealedPasscodeCommand, sendCodeCommand } from './test-commands';

const COMMANDS = commandTopic('vault');
const CLIENT = { id: 'worker-vault-it', secret: 'worker-vault-it-secret' };
const MAX_ATTEMPTS = 3;
// A call that times out is never repeated: generous, so that a first call slowed down by a busy machine
// (token, key and RSA encryption included) does not end as an unknown outcome.
const HTTP_TIMEOUT_MS = 5000;

// Every passcode this suite sends; none may appear in a Kafka message, a vendor_commands row or a log.
// Vault's passcodes are four digits: these all start with 0, as no pid, port, offset or duration in
// a log line does, so the search cannot mistake one for them.
const PASSCODES = {
  happy: '0739',
  afterCodeCheck: '0513',
  beforeRotation: '0582',
  afterRotation: '0904',
  withCachedKey: '0630',
  wrongCode: '0815',
  usedCodeFirst: '0370',
  usedCodeAgain: '0461',
  expiredCode: '0248',
  closedCard: '0529',
  tooWeak: '0111',
  invalidFormat: '07391',
  unknownCard: '0927',
  vaultDown: '0356',
  timedOut: '0684',
  gatewayTimeout: '0846',
  otherPadding: '0195',
  duplicate: '0872',
  duplicateMarker: '0413',
  undecryptable: '0268',
};
/** Every one-time code the sandbox texted during the suite: none may leak either. */
const codesSeen: string[] = [];

type FailedData = EventData<typeof EVENT_TYPES.failed>;

/**
 * The worker as its own process against the Vault sandbox as its own process, over real HTTP, with
 * a real broker and database: commands published as intake publishes them (secrets sealed to
 * pinflow's key), outcomes read from pinflow.events.v1, and Vault's side read through its hooks.
 */
describe('worker-vault against the Vault sandbox, a real broker and a real database', () => {
  let suite: WorkerUnderTest;
  let vaultProcess: ServiceProcess;
  let workerProcess: ServiceProcess;
  let workerUrl: string;
  let producer: JsonProducer;
  let recorder: TopicRecorder;
  let prisma: PrismaClient;
  let keyRing: PinKeyRing;
  let defaultKnobs: Record<string, unknown>;

  const hook = <T = any>(method: string, route: string, body?: unknown): Promise<T> => suite.hook<T>(method, route, body);

  async function seedCard(status = 'ACTIVE'): Promise<string> {
    const cardId = String(randomInt(1, 2 ** 47));
    await hook('PUT', `/sandbox/cards/${cardId}`, { status });
    return cardId;
  }

  /** Vault texts the cardholder a code; the test reads it off the phone (the sandbox's hook). */
  async function textCode(cardId: string): Promise<string> {
    const { code } = await hook<{ code: string }>('POST', `/sandbox/cards/${cardId}/otp`);
    codesSeen.push(code);
    return code;
  }

  /** A command as intake publishes it: passcode and code sealed to pinflow's key. */
  const passcodeCommand = (cardId: string, passcode: string, code: string) => sealedPasscodeCommand(keyRing, passcode, code, { cardId, caller: { subject: 'worker-vault-it' } });

  async function send(...commands: VaultCommand[]): Promise<void> {
    await producer.send(COMMANDS, vaultCommand, commands.map((command) => ({ key: command.cardId, value: command })));
  }

  const eventsFor = (cardId: string, type: string) => recorder.json<PinflowEvent>(EVENTS_TOPIC).filter((event) => event.subject === cardId && event.type === type);
  const nextEvent = (cardId: string, type: string) => recorder.waitForJson<PinflowEvent>(EVENTS_TOPIC, (event) => event.subject === cardId && event.type === type);
  const failureOf = async (cardId: string) => (await nextEvent(cardId, EVENT_TYPES.failed)).data as FailedData;

  /** The statuses Vault answered the card's passcode sets with, in order. */
  async function passcodeSets(cardId: string): Promise<(number | null)[]> {
    const calls = await hook<{ cardId: string | null; path: string; status: number | null }[]>('GET', '/sandbox/calls');
    return calls.filter((call) => call.cardId === cardId && call.path.endsWith('/passcode/code/set')).map((call) => call.status);
  }

  const keyFetches = async () => (await hook<{ path: string }[]>('GET', '/sandbox/calls')).filter((call) => call.path === '/v2/card/rsa-public-key').length;
  const verifies = async (cardId: string, passCode: string) => (await hook<{ matches: boolean }>('POST', `/sandbox/cards/${cardId}/verify-passcode`, { passCode })).matches;
  const passcodeChanges = async (cardId: string) => (await hook<{ passcodeChanges: number }>('GET', `/sandbox/cards/${cardId}`)).passcodeChanges;
  const stateOf = async (command: VaultSetPasscodeCommand) => prisma.vendorCommand.findUniqueOrThrow({ where: { commandId: command.commandId } });
  /** Why the worker parked the command for an operator. */
  const deadLetterReason = (command: VaultSetPasscodeCommand) => suite.deadLetterReason(command.commandId);

  async function withKnobs(knobs: Record<string, unknown>, run: () => Promise<void>): Promise<void> {
    await hook('PUT', '/sandbox/knobs', knobs);
    try {
      await run();
    } finally {
      await hook('PUT', '/sandbox/knobs', defaultKnobs);
    }
  }

  async function writtenKeyFile(file: string): Promise<string> {
    await writePinKeyRingFile(file, keyRing);
    return file;
  }

  beforeAll(async () => {
    keyRing = await generatePinKeyRing();
    suite = await WorkerUnderTest.start({
      vendor: 'vault',
      client: CLIENT,
      sandboxEnv: { LOG_LEVEL: 'debug' },
      workerEnv: async ({ sandbox: vault, work }: WorkerSetup) => ({
        COMMAND_KEYS_FILE: await writtenKeyFile(path.join(work, 'command-keys.json')),
        VAULT_BASE_URL: vault.baseUrl,
        VAULT_TOKEN_URL: `${vault.baseUrl}/v2/auth/token`,
        VAULT_CLIENT_ID: CLIENT.id,
        VAULT_CLIENT_SECRET: CLIENT.secret,
        VAULT_HTTP_TIMEOUT_MS: String(HTTP_TIMEOUT_MS),
        VAULT_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
        VAULT_RETRY_BASE_MS: '10',
      }),
      extraTopics: [DEAD_LETTER_TOPIC],
    });
    ({ workerUrl, producer, recorder, prisma, sandboxProcess: vaultProcess, worker: workerProcess } = suite);
    defaultKnobs = await hook('GET', '/sandbox/knobs');
  }, 180_000);

  afterAll(() => suite?.stop(), 60_000);

  it('is ready once its command consumer joined its group and the database answers, and reports Vault’s circuit', async () => {
    const response = await fetch(`${workerUrl}/health/ready`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { info: unknown }).info).toEqual({
      database: { status: 'up' },
      'command-consumer': { status: 'up' },
      'vault-circuit-breaker': { status: 'up' },
    });
  });

  it('sets a passcode: Vault gets the code and the passcode it can decrypt, and password.changed is published', async () => {
    const cardId = await seedCard();
    const code = await textCode(cardId);
    const command = await passcodeCommand(cardId, PASSCODES.happy, code);

    await send(command);
    const changed = await nextEvent(cardId, EVENT_TYPES.passwordChanged);

    expect(changed).toMatchObject({ source: '/pinflow/worker-vault', data: { vendor: 'vault', requestId: command.requestId, commandId: command.commandId } });
    expect(await verifies(cardId, PASSCODES.happy)).toBe(true);
    expect(await passcodeSets(cardId)).toEqual([200]);
    expect(await hook('GET', `/sandbox/cards/${cardId}/otp`)).toMatchObject({ used: true });
    await waitFor('the command to be SUCCEEDED', async () => (await prisma.vendorCommand.findUnique({ where: { commandId: command.commandId } }))?.state === 'SUCCEEDED');
  });

  it('has Vault text a code, checks it without using it up, then sets the passcode with it', async () => {
    const cardId = await seedCard();
    const request = sendCodeCommand({ cardId, caller: { subject: 'worker-vault-it' } });

    await send(request);
    expect((await nextEvent(cardId, EVENT_TYPES.verificationCodeSent)).data).toEqual({ vendor: 'vault', requestId: request.requestId, commandId: request.commandId });
    // The cardholder reads the code off the phone: the sandbox's outbox.
    const { code } = await hook<{ code: string }>('GET', `/sandbox/cards/${cardId}/otp`);
    codesSeen.push(code);
    expect((await hook('GET', '/sandbox/applied'))[cardId]).toMatchObject({ codesSent: 1 });

    const check = await sealedCheckCodeCommand(keyRing, code, { cardId });
    await send(check);
    expect((await nextEvent(cardId, EVENT_TYPES.verificationCodeChecked)).data).toEqual({ vendor: 'vault', requestId: check.requestId, commandId: check.commandId });
    expect(await hook('GET', `/sandbox/cards/${cardId}/otp`)).toMatchObject({ used: false });

    await send(await passcodeCommand(cardId, PASSCODES.afterCodeCheck, code));
    await nextEvent(cardId, EVENT_TYPES.passwordChanged);
    expect(await verifies(cardId, PASSCODES.afterCodeCheck)).toBe(true);
  });

  it('fails a check of a code that is not the one Vault texted with VENDOR_REJECTED and Vault’s CODE_INVALID', async () => {
    const cardId = await seedCard();
    const code = await textCode(cardId);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    codesSeen.push(wrong);
    const check = await sealedCheckCodeCommand(keyRing, wrong, { cardId });

    await send(check);

    expect(await failureOf(cardId)).toMatchObject({ operation: 'check_verification_code', reason: 'VENDOR_REJECTED', vendorStatus: 400, vendorError: { code: 'CODE_INVALID', field: 'code' } });
    expect(await hook('GET', `/sandbox/cards/${cardId}/otp`)).toMatchObject({ used: false });
  });

  it('after Vault rotates its key, fetches the new one once the old is refused, succeeds, and keeps the new one', async () => {
    const first = await seedCard();
    await send(await passcodeCommand(first, PASSCODES.beforeRotation, await textCode(first)));
    await nextEvent(first, EVENT_TYPES.passwordChanged);
    await hook('POST', '/sandbox/rsa-key/rotate');
    const fetchesBefore = await keyFetches();

    const rotated = await seedCard();
    await send(await passcodeCommand(rotated, PASSCODES.afterRotation, await textCode(rotated)));
    await nextEvent(rotated, EVENT_TYPES.passwordChanged);
    const cached = await seedCard();
    await send(await passcodeCommand(cached, PASSCODES.withCachedKey, await textCode(cached)));
    await nextEvent(cached, EVENT_TYPES.passwordChanged);

    expect(await passcodeSets(rotated)).toEqual([400, 200]);
    expect(await verifies(rotated, PASSCODES.afterRotation)).toBe(true);
    expect(await passcodeSets(cached)).toEqual([200]);
    expect(await keyFetches()).toBe(fetchesBefore + 1);
  });

  it.each([
    ['a code that is not the one texted', { passcode: PASSCODES.wrongCode, code: 'other' }, 'CODE_INVALID', 'code'],
    ['an expired code', { passcode: PASSCODES.expiredCode, code: 'expired' }, 'CODE_EXPIRED', 'code'],
    ['a passcode with a digit three times in a row', { passcode: PASSCODES.tooWeak }, 'PASSCODE_TOO_WEAK', 'passCode'],
    ['a passcode that is not four digits', { passcode: PASSCODES.invalidFormat }, 'PASSCODE_INVALID_FORMAT', 'passCode'],
    ['a closed card', { passcode: PASSCODES.closedCard, status: 'CLOSED' }, 'CARD_CLOSED', 'id'],
  ])('fails with VENDOR_REJECTED and Vault’s code for %s, calling once', async (_case, input: { passcode: string; code?: string; status?: string }, error, field) => {
    const cardId = await seedCard(input.status);
    let code = await textCode(cardId);
    if (input.code === 'other') code = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    if (input.code === 'expired') {
      await withKnobs({ codeTtlSeconds: 1 }, async () => {
        code = await textCode(cardId);
      });
      await sleep(1100);
    }

    await send(await passcodeCommand(cardId, input.passcode, code));
    const failed = await failureOf(cardId);

    expect(failed).toMatchObject({ reason: 'VENDOR_REJECTED', vendorStatus: 400, vendorError: { code: error, detail: expect.any(String), field } });
    expect(await passcodeSets(cardId)).toEqual([400]);
    expect(await passcodeChanges(cardId)).toBe(0);
  });

  it('fails with VENDOR_REJECTED for a code that already set a passcode', async () => {
    const cardId = await seedCard();
    const code = await textCode(cardId);
    await send(await passcodeCommand(cardId, PASSCODES.usedCodeFirst, code));
    await nextEvent(cardId, EVENT_TYPES.passwordChanged);

    await send(await passcodeCommand(cardId, PASSCODES.usedCodeAgain, code));
    const failed = await failureOf(cardId);

    expect(failed).toMatchObject({ reason: 'VENDOR_REJECTED', vendorStatus: 400, vendorError: { code: 'CODE_ALREADY_USED', field: 'code' } });
    expect(await verifies(cardId, PASSCODES.usedCodeFirst)).toBe(true);
  });

  it('fails with CARD_NOT_FOUND for a card Vault does not know', async () => {
    const cardId = String(randomInt(2 ** 47, 2 ** 48));

    await send(await passcodeCommand(cardId, PASSCODES.unknownCard, '482913'));

    expect(await failureOf(cardId)).toMatchObject({ reason: 'CARD_NOT_FOUND', vendorStatus: 404, vendorError: { code: 'CARD_NOT_FOUND', field: 'id' } });
  });

  it('retries while Vault answers 500, then fails with VENDOR_UNAVAILABLE and parks the command for a replay: nothing was applied', async () => {
    const cardId = await seedCard();
    const code = await textCode(cardId);
    const command = await passcodeCommand(cardId, PASSCODES.vaultDown, code);

    await withKnobs({ errorRate: 1 }, async () => {
      await send(command);
      expect(await failureOf(cardId)).toMatchObject({ reason: 'VENDOR_UNAVAILABLE', vendorStatus: 500, vendorError: { code: 'COMMON' } });
    });

    expect(await passcodeSets(cardId)).toEqual(Array(MAX_ATTEMPTS).fill(500));
    expect(await stateOf(command)).toMatchObject({ state: 'FAILED_RETRYABLE', attempts: MAX_ATTEMPTS });
    expect(await deadLetterReason(command)).toBe('RETRIES_EXHAUSTED');
    expect(await passcodeChanges(cardId)).toBe(0);
    expect(await hook('GET', `/sandbox/cards/${cardId}/otp`)).toMatchObject({ used: false });
  });

  it('never sends the code again after a call that timed out, which Vault may have applied: one call, OUTCOME_UNKNOWN, and a dead letter', async () => {
    // Relies on the worker holding Vault's key from the tests above: the drill holds every Vault call.
    const cardId = await seedCard();
    const code = await textCode(cardId);
    const command = await passcodeCommand(cardId, PASSCODES.timedOut, code);

    await withKnobs({ timeoutRate: 1, timeoutApplies: true, timeoutHoldMs: HTTP_TIMEOUT_MS * 2 }, async () => {
      await send(command);
      // Vault applies a drilled timeout before holding the call: once applied, the drill can end.
      await waitFor('Vault to apply the call', async () => (await hook('GET', '/sandbox/applied'))[cardId]?.passcodeSets === 1, 30_000, 50);
    });
    const failed = await failureOf(cardId);

    expect(failed).toEqual({ vendor: 'vault', requestId: command.requestId, commandId: command.commandId, operation: 'set_passcode', reason: 'OUTCOME_UNKNOWN' });
    expect(await passcodeSets(cardId)).toHaveLength(1);
    expect(await stateOf(command)).toMatchObject({ state: 'FAILED', attempts: 1 });
    expect(await deadLetterReason(command)).toBe('OUTCOME_UNKNOWN');
    // What the operator finds out from Vault: the passcode was set.
    expect(await verifies(cardId, PASSCODES.timedOut)).toBe(true);
  });

  it('takes a gateway’s 504 for the timeout it is: Vault may have set the passcode behind it, so the code is not sent again', async () => {
    // Relies on the worker holding Vault's key, as above.
    const cardId = await seedCard();
    const code = await textCode(cardId);

    await withKnobs({ timeoutRate: 1, timeoutApplies: true, timeoutHoldMs: 0 }, async () => {
      await send(await passcodeCommand(cardId, PASSCODES.gatewayTimeout, code));
      expect(await failureOf(cardId)).toMatchObject({ reason: 'OUTCOME_UNKNOWN' });
    });

    expect(await passcodeSets(cardId)).toEqual([504]);
    expect(await verifies(cardId, PASSCODES.gatewayTimeout)).toBe(true);
  });

  it('is refused, the passcode unset, when Vault decrypts with another padding than the worker’s', async () => {
    const cardId = await seedCard();
    const code = await textCode(cardId);

    await withKnobs({ rsaPadding: 'pkcs1' }, async () => {
      await send(await passcodeCommand(cardId, PASSCODES.otherPadding, code));
      // An OAEP block read as PKCS#1 v1.5 is refused as unreadable, except about once in 400 tries, when
      // its bytes happen to pass v1.5's padding check and the garbage under it fails the passcode format.
      expect(await failureOf(cardId)).toMatchObject({ reason: 'VENDOR_REJECTED', vendorError: { code: expect.stringMatching(/^PASSCODE_(UNREADABLE|INVALID_FORMAT)$/), field: 'passCode' } });
    });
    expect(await verifies(cardId, PASSCODES.otherPadding)).toBe(false);
  });

  it('calls Vault once for a command delivered twice', async () => {
    const cardId = await seedCard();
    const code = await textCode(cardId);
    const command = await passcodeCommand(cardId, PASSCODES.duplicate, code);
    const marker = await passcodeCommand(cardId, PASSCODES.duplicateMarker, code);

    // Same card, same partition: once the marker is handled, so is the duplicate before it.
    await send(command, command, marker);
    await failureOf(cardId);

    expect(await passcodeSets(cardId)).toEqual([200, 400]);
    expect(eventsFor(cardId, EVENT_TYPES.passwordChanged)).toHaveLength(1);
    expect(await passcodeChanges(cardId)).toBe(1);
  });

  it('fails with UNDECRYPTABLE_PIN, without calling Vault, when the code was sealed to a key the worker does not hold', async () => {
    const cardId = await seedCard();
    const code = await textCode(cardId);
    const sealed = await passcodeCommand(cardId, PASSCODES.undecryptable, code);
    const command = { ...sealed, encryptedCode: await sealForCommand('oneTimeCode', code, await generatePinKeyRing(), sealed) };

    await send(command);

    expect(await failureOf(cardId)).toEqual({ vendor: 'vault', requestId: command.requestId, commandId: command.commandId, operation: 'set_passcode', reason: 'UNDECRYPTABLE_PIN' });
    expect(await passcodeSets(cardId)).toEqual([]);
  });

  it('leaves no passcode or code in any Kafka message, vendor_commands row or log line', async () => {
    // Runs last: by now every passcode and code above went through the worker and the sandbox.
    const secrets = [...Object.values(PASSCODES), ...codesSeen];
    // JWEs, tokens and ids are long base64url runs: a four-digit passcode turning up inside one is chance, not a leak.
    const searchable = (text: string) => text.replace(/[A-Za-z0-9_-]{20,}/g, '<opaque>');
    const kafkaText = recorder.messages.map((message) => `${message.key} ${message.value} ${JSON.stringify(message.headers)}`).join('\n');
    const rows = JSON.stringify(await prisma.vendorCommand.findMany({ where: { vendor: 'vault' } }));
    const workerLog = readFileSync(workerProcess.logFile, 'utf8');
    const vaultLog = readFileSync(vaultProcess.logFile, 'utf8');

    expect(recorder.json(EVENTS_TOPIC).length).toBeGreaterThan(15);
    expect(workerLog).toContain('vendor called');
    expect(leakedDigits(searchable(kafkaText), secrets)).toEqual([]);
    expect(leakedDigits(searchable(rows), secrets)).toEqual([]);
    expect(leakedDigits(searchable(workerLog), secrets)).toEqual([]);
    expect(leakedDigits(searchable(vaultLog), secrets)).toEqual([]);
  });
});
