import { commandTopic, EVENT_TYPES, EVENTS_TOPIC, PinflowEvent, SolarisChangePinCommand, solarisChangePinCommand, SolarisCommand, solarisCommand as solarisCommandSchema } from '@pinflow/contracts';
import path from 'node:path';
import { generatePinKeyRing, PinKeyRing, sealForCommand, writePinKeyRingFile } from '@pinflow/pin-crypto';
import type { PrismaClient } from '@pinflow/db';
import { DEAD_LETTER_TOPIC, JsonProducer } from '@pinflow/kafka';
import { leakedDigits, SandboxClient } from '@pinflow/sandbox-kit';
import { ServiceProcess, SolarisDevice, SolarisPinJwk, TopicRecorder, waitFor } from '@pinflow/testing';
import { WorkerSetup, WorkerUnderTest } from '@pinflow/worker-kit/testing';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { changePinRequestCommand, confirmChangeRequestCommand, signChangeRequestCommand, solarisCommand } from './test-commands';

const COMMANDS = commandTopic('solaris');
const CLIENT = { id: 'worker-solaris-it', secret: 'worker-solaris-it-secret' };
const MAX_ATTEMPTS = 3;
// Generous: a call that times out is never repeated, so a slow first call (token included) on a busy machine would end unknown.
const HTTP_TIMEOUT_MS = 3000;

// Every PIN a device encrypts in this suite; none may appear outside the sandbox's memory. Four digits
// as Solaris wants them, and none a timestamp, port or duration in a log line would likely show.
const PINS = {
  changed: '8264',
  weak: '6789',
  badSignature: '8153',
  foreignDevice: '9428',
  unknownCard: '7395',
  unavailable: '8517',
  timedOut: '7592',
  duplicate: '9371',
  marker: '6928',
  interrupted: '8640',
  changeRequested: '5208',
  signedByDevice: '4927',
  wrongTan: '7049',
  expired: '6150',
};

interface Cardholder {
  personId: string;
  cardId: string;
  device: SolarisDevice;
}

interface SandboxCall {
  method: string;
  path: string;
  cardId: string | null;
  status: number | null;
}

/**
 * The worker and the Solaris sandbox as their own processes, over real HTTP, with the real broker and
 * database: commands as intake publishes them, made by an emulated cardholder device.
 */
describe('worker-solaris against the Solaris sandbox, a real broker and a real database', () => {
  let suite: WorkerUnderTest;
  let sandboxProcess: ServiceProcess;
  let workerProcess: ServiceProcess;
  let sandbox: SandboxClient;
  let workerUrl: string;
  let producer: JsonProducer;
  let recorder: TopicRecorder;
  let prisma: PrismaClient;
  let pinKey: SolarisPinJwk;
  let keyRing: PinKeyRing;
  // Every TAN Solaris texted in this suite: as secret as the PINs.
  const tans: string[] = [];
  // What the worker relays and must never log or store: every JWE and signature a device made.
  const relayed: string[] = [];

  const hook = (method: string, route: string, body?: unknown) => suite.hook(method, route, body);

  async function cardholder(): Promise<Cardholder> {
    const personId = `person-${randomUUID()}`;
    // Whole UUIDs: the leak search takes them out, so their digits cannot pass for a PIN.
    const cardId = `card-${randomUUID()}`;
    const device = new SolarisDevice(`device-${randomUUID()}`);
    await bind(personId, device);
    await hook('PUT', `/sandbox/cards/${cardId}`, { personId });
    return { personId, cardId, device };
  }

  const bind = (personId: string, device: SolarisDevice) =>
    hook('PUT', `/sandbox/persons/${personId}/devices/${device.id}`, { publicKey: device.publicKeyHex, purpose: 'restricted' });

  /** The command intake publishes after the cardholder's device encrypted and signed `pin`. */
  async function pinChange(cardId: string, device: SolarisDevice, pin: string): Promise<SolarisChangePinCommand> {
    const signed = await device.encryptAndSign(pin, pinKey);
    relayed.push(signed.encrypted_pin, signed.signature);
    return solarisCommand({ cardId, deviceId: device.id, encryptedPin: signed.encrypted_pin, keyId: signed.key_id, signature: signed.signature });
  }

  const send = (...commands: SolarisChangePinCommand[]) =>
    producer.send(COMMANDS, solarisChangePinCommand, commands.map((command) => ({ key: command.cardId, value: command })));

  const outcomeOf = (command: SolarisChangePinCommand, type: string) =>
    recorder.waitForJson<PinflowEvent>(EVENTS_TOPIC, (event) => event.data.commandId === command.commandId && event.type === type);

  const eventsOf = (command: SolarisChangePinCommand) => recorder.json<PinflowEvent>(EVENTS_TOPIC).filter((event) => event.data.commandId === command.commandId);

  const callsFor = async (cardId: string) => ((await hook('GET', '/sandbox/calls')) as SandboxCall[]).filter((call) => call.cardId === cardId);
  const pinChangesOf = async (cardId: string): Promise<number> => (await hook('GET', `/sandbox/cards/${cardId}`)).pinChanges;
  const verifies = async (cardId: string, pin: string): Promise<boolean> => (await hook('POST', `/sandbox/cards/${cardId}/verify-pin`, { pin })).matches;
  /** How often the sandbox applied the change this device JWE asks for. */
  const timesApplied = async (encryptedPin: string): Promise<number> =>
    (await hook('GET', '/sandbox/applied'))[createHash('sha256').update(encryptedPin).digest('hex')]?.pinChanges ?? 0;
  const rowOf = (commandId: string) => prisma.vendorCommand.findUniqueOrThrow({ where: { commandId } });
  /** Why the worker parked the command for an operator. */
  const deadLetterReasonOf = (command: SolarisChangePinCommand) => suite.deadLetterReason(command.commandId);

  /** Step one as intake publishes it: the device-made change, as a change request. */
  async function changeRequest(cardholder: Cardholder, pin: string, deliveryMethod: 'mobile_number' | 'device_signing' = 'mobile_number') {
    const signed = await cardholder.device.encryptAndSign(pin, pinKey);
    relayed.push(signed.encrypted_pin, signed.signature);
    return changePinRequestCommand({
      cardId: cardholder.cardId,
      personId: cardholder.personId,
      deviceId: cardholder.device.id,
      encryptedPin: signed.encrypted_pin,
      keyId: signed.key_id,
      signature: signed.signature,
      deliveryMethod,
    });
  }
  /** Step two: the TAN, sealed to the worker's command key and bound to the command, as intake does. */
  const confirmation = async (cardholder: Cardholder, changeRequestId: string, tan: string) => {
    const command = confirmChangeRequestCommand({ cardId: cardholder.cardId, personId: cardholder.personId, changeRequestId, encryptedTan: 'a.b.c.d.e' });
    return { ...command, encryptedTan: await sealForCommand('oneTimeCode', tan, keyRing, command) };
  };
  const sendAny = (command: SolarisCommand) => producer.send(COMMANDS, solarisCommandSchema, [{ key: command.cardId, value: command }]);
  const eventOf = (command: SolarisCommand, type: string) =>
    recorder.waitForJson<PinflowEvent>(EVENTS_TOPIC, (event) => event.data.commandId === command.commandId && event.type === type);
  async function textedTan(personId: string, changeRequestId: string): Promise<string> {
    const texts = (await hook('GET', `/sandbox/persons/${personId}/sms`)) as { changeRequestId: string; tan: string }[];
    const { tan } = texts.find((text) => text.changeRequestId === changeRequestId)!;
    tans.push(tan);
    return tan;
  }
  /** Step one, run: the change request id the event names, and the TAN Solaris texted. */
  async function awaitingConfirmation(cardholder: Cardholder, pin: string): Promise<{ changeRequestId: string; tan: string }> {
    const request = await changeRequest(cardholder, pin);
    await sendAny(request);
    const required = await eventOf(request, EVENT_TYPES.confirmationRequired);
    const { changeRequestId } = required.data as { changeRequestId: string };
    return { changeRequestId, tan: await textedTan(cardholder.personId, changeRequestId) };
  }

  async function writtenKeyFile(file: string): Promise<string> {
    await writePinKeyRingFile(file, keyRing);
    return file;
  }

  beforeAll(async () => {
    keyRing = await generatePinKeyRing();
    suite = await WorkerUnderTest.start({
      vendor: 'solaris',
      client: CLIENT,
      workerEnv: async ({ sandbox: solaris, work }: WorkerSetup) => {
        solaris.bearer = await solaris.fetchToken('/oauth2/token', { clientId: CLIENT.id, clientSecret: CLIENT.secret });
        pinKey = (await solaris.call('GET', '/v1/cards/pin_keys/latest')).body;
        return {
          COMMAND_KEYS_FILE: await writtenKeyFile(path.join(work, 'command-keys.json')),
          SOLARIS_BASE_URL: solaris.baseUrl,
          SOLARIS_TOKEN_URL: `${solaris.baseUrl}/oauth2/token`,
          SOLARIS_CLIENT_ID: CLIENT.id,
          SOLARIS_CLIENT_SECRET: CLIENT.secret,
          SOLARIS_HTTP_TIMEOUT_MS: String(HTTP_TIMEOUT_MS),
          SOLARIS_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
          SOLARIS_RETRY_BASE_MS: '10',
        };
      },
      extraTopics: [DEAD_LETTER_TOPIC],
    });
    ({ sandbox, sandboxProcess, worker: workerProcess, workerUrl, producer, recorder, prisma } = suite);
  }, 180_000);

  afterAll(() => suite?.stop(), 60_000);

  afterEach(async () => {
    await sandbox.setKnobs({ errorRate: 0, timeoutRate: 0 });
  });

  it('is ready once its command consumer joined its group and the database answers, and reports Solaris’ circuit; it reads no Solaris events', async () => {
    const response = await fetch(`${workerUrl}/health/ready`);

    expect(response.status).toBe(200);
    expect(((await response.json()) as { info: unknown }).info).toEqual({
      database: { status: 'up' },
      'command-consumer': { status: 'up' },
      'solaris-circuit-breaker': { status: 'up' },
    });
  });

  it('changes a PIN: Solaris gets the device’s request once and holds the new PIN, and password.changed is published', async () => {
    const { cardId, device } = await cardholder();
    const command = await pinChange(cardId, device, PINS.changed);

    await send(command);
    const changed = await outcomeOf(command, EVENT_TYPES.passwordChanged);

    expect(changed).toMatchObject({ source: '/pinflow/worker-solaris', subject: cardId, data: { vendor: 'solaris', requestId: command.requestId, commandId: command.commandId } });
    expect(await verifies(cardId, PINS.changed)).toBe(true);
    expect(await callsFor(cardId)).toEqual([expect.objectContaining({ method: 'POST', path: `/v1/cards/${cardId}/pin_update_requests`, status: 201 })]);
    expect(await rowOf(command.commandId)).toMatchObject({ vendor: 'solaris', state: 'SUCCEEDED', vendorStatus: 201, attempts: 1 });
  });

  describe('Solaris’ refusals are final: one call, nothing changed, and Solaris’ error in the failure', () => {
    /** Each case: the card whose PIN changes, and the command its cardholder's app made. */
    const cases: [string, () => Promise<{ cardId: string; command: SolarisChangePinCommand }>, Record<string, unknown>][] = [
      [
        'a PIN that breaks Solaris’ rules',
        async () => {
          const { cardId, device } = await cardholder();
          return { cardId, command: await pinChange(cardId, device, PINS.weak) };
        },
        { reason: 'VENDOR_REJECTED', vendorStatus: 400, vendorError: { code: 'invalid_pin', title: 'Invalid PIN', detail: expect.stringMatching(/^pin /), field: 'pin' } },
      ],
      [
        'a JWE the bound device did not sign',
        async () => {
          const { cardId, device } = await cardholder();
          const command = await pinChange(cardId, device, PINS.badSignature);
          const forged = { ...command, signature: new SolarisDevice().sign(command.encryptedPin) };
          relayed.push(forged.signature);
          return { cardId, command: forged };
        },
        { reason: 'VENDOR_REJECTED', vendorStatus: 400, vendorError: { code: 'validation_error', title: 'Validation Error', detail: expect.any(String), field: 'signature' } },
      ],
      [
        'a change signed by another person’s device',
        async () => {
          const { cardId } = await cardholder();
          const someoneElse = await cardholder();
          return { cardId, command: await pinChange(cardId, someoneElse.device, PINS.foreignDevice) };
        },
        { reason: 'VENDOR_REJECTED', vendorStatus: 403, vendorError: { code: 'unauthorized_action', title: 'Unauthorized Action', detail: 'Unauthorized action is not allowed.' } },
      ],
      [
        'a card Solaris does not know',
        async () => {
          const { cardId, device } = await cardholder();
          return { cardId, command: await pinChange(`unknown-${randomUUID()}`, device, PINS.unknownCard) };
        },
        { reason: 'CARD_NOT_FOUND', vendorStatus: 404, vendorError: { code: 'model_not_found', title: 'Model Not Found', detail: expect.any(String) } },
      ],
    ];

    it.each(cases)('%s', async (_case, made, failure) => {
      const { cardId, command } = await made();

      await send(command);
      const failed = await outcomeOf(command, EVENT_TYPES.failed);

      expect(failed.data).toEqual({ vendor: 'solaris', requestId: command.requestId, commandId: command.commandId, operation: 'change_pin', ...failure });
      expect(await callsFor(command.cardId)).toHaveLength(1);
      expect(await pinChangesOf(cardId)).toBe(0);
    });
  });

  it('retries Solaris’ 500s, then fails with VENDOR_UNAVAILABLE and parks the command for a replay: nothing was applied', async () => {
    const { cardId, device } = await cardholder();
    const command = await pinChange(cardId, device, PINS.unavailable);
    await sandbox.setKnobs({ errorRate: 1 });

    await send(command);
    const failed = await outcomeOf(command, EVENT_TYPES.failed);

    expect(failed.data).toMatchObject({ reason: 'VENDOR_UNAVAILABLE', vendorStatus: 500, vendorError: { code: 'generic_error' } });
    expect((await callsFor(cardId)).map((call) => call.status)).toEqual(Array(MAX_ATTEMPTS).fill(500));
    expect(await rowOf(command.commandId)).toMatchObject({ state: 'FAILED_RETRYABLE', attempts: MAX_ATTEMPTS });
    expect(await deadLetterReasonOf(command)).toBe('RETRIES_EXHAUSTED');
    expect(await pinChangesOf(cardId)).toBe(0);
  });

  it('never relays again a change whose call timed out, since Solaris may have applied it: one call, OUTCOME_UNKNOWN, and a dead letter for an operator', async () => {
    const { cardId, device } = await cardholder();
    const command = await pinChange(cardId, device, PINS.timedOut);
    // Solaris applies the change, then the answer never arrives in time.
    await sandbox.setKnobs({ timeoutRate: 1, timeoutApplies: true, timeoutHoldMs: 2 * HTTP_TIMEOUT_MS });

    await send(command);
    const failed = await outcomeOf(command, EVENT_TYPES.failed);

    expect(failed.data).toMatchObject({ reason: 'OUTCOME_UNKNOWN' });
    expect(failed.data).not.toHaveProperty('vendorStatus');
    expect(await callsFor(cardId)).toHaveLength(1);
    expect(await rowOf(command.commandId)).toMatchObject({ state: 'FAILED', attempts: 1 });
    expect(await deadLetterReasonOf(command)).toBe('OUTCOME_UNKNOWN');
    // What the operator finds out from Solaris: it did change the PIN, once.
    expect(await timesApplied(command.encryptedPin)).toBe(1);
    expect(await verifies(cardId, PINS.timedOut)).toBe(true);
  });

  it('calls Solaris once for a command delivered twice', async () => {
    const { cardId, device } = await cardholder();
    const command = await pinChange(cardId, device, PINS.duplicate);
    const marker = await pinChange(cardId, device, PINS.marker);

    // Same card, same partition: once the marker is handled, so is the duplicate before it.
    await send(command, command, marker);
    await outcomeOf(marker, EVENT_TYPES.passwordChanged);

    expect(eventsOf(command).map((event) => event.type)).toEqual([EVENT_TYPES.passwordChanged]);
    expect(await timesApplied(command.encryptedPin)).toBe(1);
    expect(await callsFor(cardId)).toHaveLength(2);
  });

  it('never relays again a command a stopped worker left mid-call: it fails with OUTCOME_UNKNOWN', async () => {
    const { cardId, device } = await cardholder();
    const command = await pinChange(cardId, device, PINS.interrupted);
    await prisma.vendorCommand.create({
      data: { commandId: command.commandId, vendor: 'solaris', requestId: command.requestId, cardId, operation: 'change_pin', state: 'CALLING', correlationId: command.commandId, attempts: 1 },
    });

    await send(command);
    const failed = await outcomeOf(command, EVENT_TYPES.failed);

    expect(failed.data).toMatchObject({ requestId: command.requestId, reason: 'OUTCOME_UNKNOWN' });
    expect(await callsFor(cardId)).toEqual([]);
  });

  describe('Solaris’ change request, in two commands', () => {
    it('creates and authorizes it, says confirmation is required and how, and applies the PIN only when the TAN confirms it', async () => {
      const holder = await cardholder();
      const request = await changeRequest(holder, PINS.changeRequested);
      await sendAny(request);

      const required = await eventOf(request, EVENT_TYPES.confirmationRequired);
      expect(required.data).toEqual({
        vendor: 'solaris',
        requestId: request.requestId,
        commandId: request.commandId,
        changeRequestId: expect.stringMatching(/^[A-Za-z0-9_-]+$/),
        changeRequestStatus: 'CONFIRMATION_REQUIRED',
        deliveryMethod: 'mobile_number',
      });
      expect(await pinChangesOf(holder.cardId)).toBe(0);
      const { changeRequestId } = required.data as { changeRequestId: string };
      const tan = await textedTan(holder.personId, changeRequestId);

      const confirm = await confirmation(holder, changeRequestId, tan);
      await sendAny(confirm);
      const changed = await eventOf(confirm, EVENT_TYPES.passwordChanged);

      expect(changed.data).toEqual({ vendor: 'solaris', requestId: confirm.requestId, commandId: confirm.commandId });
      expect(await verifies(holder.cardId, PINS.changeRequested)).toBe(true);
      expect(await rowOf(request.commandId)).toMatchObject({ operation: 'change_pin_request', state: 'SUCCEEDED', vendorStatus: 201, attempts: 1 });
      expect(await rowOf(confirm.commandId)).toMatchObject({ operation: 'confirm_change_request', state: 'SUCCEEDED', vendorStatus: 201, attempts: 1 });
    });

    it('confirms by device signing: the event carries the string the device signs, and the signature confirms it', async () => {
      const holder = await cardholder();
      const request = await changeRequest(holder, PINS.signedByDevice, 'device_signing');
      await sendAny(request);
      const required = await eventOf(request, EVENT_TYPES.confirmationRequired);
      const { changeRequestId, stringToSign } = required.data as { changeRequestId: string; stringToSign: string };
      expect(required.data).toMatchObject({ deliveryMethod: 'device_signing', stringToSign: expect.any(String) });

      const signature = holder.device.sign(stringToSign);
      relayed.push(signature);
      const confirm = signChangeRequestCommand({ cardId: holder.cardId, personId: holder.personId, changeRequestId, signature });
      await sendAny(confirm);

      await eventOf(confirm, EVENT_TYPES.passwordChanged);
      expect(await verifies(holder.cardId, PINS.signedByDevice)).toBe(true);
    });

    it('fails the confirmation with Solaris’ invalid_tan for a wrong TAN, and changes nothing', async () => {
      const holder = await cardholder();
      const { changeRequestId, tan } = await awaitingConfirmation(holder, PINS.wrongTan);
      const confirm = await confirmation(holder, changeRequestId, tan === '000000' ? '111111' : '000000');
      await sendAny(confirm);

      const failed = await eventOf(confirm, EVENT_TYPES.failed);
      expect(failed.data).toMatchObject({ operation: 'confirm_change_request', reason: 'VENDOR_REJECTED', vendorStatus: 422, vendorError: { code: 'invalid_tan', field: 'tan' } });
      expect(await pinChangesOf(holder.cardId)).toBe(0);
    });

    it('fails the confirmation of an expired change request with change_request_expired, the right TAN notwithstanding', async () => {
      const holder = await cardholder();
      const { changeRequestId, tan } = await awaitingConfirmation(holder, PINS.expired);
      await hook('POST', `/sandbox/change_requests/${changeRequestId}/expire`);
      const confirm = await confirmation(holder, changeRequestId, tan);
      await sendAny(confirm);

      const failed = await eventOf(confirm, EVENT_TYPES.failed);
      expect(failed.data).toMatchObject({ reason: 'VENDOR_REJECTED', vendorStatus: 410, vendorError: { code: 'change_request_expired' } });
      expect(await verifies(holder.cardId, PINS.expired)).toBe(false);
    });
  });

  it('leaves no PIN, TAN, relayed JWE or signature in any event, log line or row of its table', async () => {
    // Runs last: by now every PIN and TAN above went through the worker.
    expect(tans.length).toBeGreaterThanOrEqual(3);
    const pins = [...Object.values(PINS), ...tans];
    const events = recorder.messages.filter((message) => message.topic === EVENTS_TOPIC);
    const eventText = events.map((message) => `${message.key} ${message.value} ${JSON.stringify(message.headers)}`).join('\n');
    expect(events.length).toBeGreaterThanOrEqual(10);
    expect(leakedDigits(eventText, pins)).toEqual([]);
    expect(relayed.filter((secret) => eventText.includes(secret))).toEqual([]);
    // Commands, and the dead letters that keep them, carry the JWE and the signature by design; without them, no PIN is left.
    const commandText = recorder.messages
      .filter((message) => message.topic === COMMANDS || message.topic === DEAD_LETTER_TOPIC)
      .map((message) => relayed.reduce((text, secret) => text.replaceAll(secret, '<relayed>'), message.value))
      .join('\n');
    expect(leakedDigits(commandText, pins)).toEqual([]);

    const rows = JSON.stringify(await prisma.vendorCommand.findMany({ where: { vendor: 'solaris' } }));
    expect(rows).toContain('SUCCEEDED');
    expect(leakedDigits(rows, pins)).toEqual([]);
    expect(relayed.filter((secret) => rows.includes(secret))).toEqual([]);

    await waitFor('the worker to log the last command', async () => readFileSync(workerProcess.logFile, 'utf8').includes('interrupted mid-call'));
    for (const service of [workerProcess, sandboxProcess]) {
      const log = readFileSync(service.logFile, 'utf8');
      expect(log.length).toBeGreaterThan(1000);
      expect(leakedDigits(log, pins)).toEqual([]);
      expect(relayed.filter((secret) => log.includes(secret))).toEqual([]);
    }
  });
});
