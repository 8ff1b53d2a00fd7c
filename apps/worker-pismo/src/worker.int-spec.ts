import type { INestApplication } from '@nestjs/common';
import { commandTopic, EVENT_TYPES, EVENTS_TOPIC, PinflowEvent, PismoChangePinCommand, PismoCommand, pismoCommand } from '@pinflow/contracts';
import { createPrismaClient, PrismaClient } from '@pinflow/db';
import { startHttpApp } from '@pinflow/http';
import { createKafka, INTAKE_SIGNER, JsonProducer, connectKafkaTransport, MESSAGE_SIGNATURE_HEADER, MessageKeyFiles, writeMessageKeyFiles } from '@pinflow/kafka';
import { createLogger } from '@pinflow/logging';
import { generatePinKeyRing, PinKeyRing, sealForCommand, writePinKeyRingFile } from '@pinflow/pin-crypto';
import { iso0Block, testCommand, testEnv, TopicRecorder, waitFor } from '@pinflow/testing';
import type { Kafka, Producer } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { workerConfigSchema } from './config';
import { AppModule } from './app.module';

const COMMANDS = commandTopic('pismo');
const PISMO_EVENTS = `pismo.events.it-${randomUUID()}`;
const CLIENT = { id: 'worker-it', secret: 'worker-it-secret' };
const MAX_ATTEMPTS = 3;
const HTTP_TIMEOUT_MS = 1000;
/** How long a change waits for Pismo's event before it fails with OUTCOME_UNKNOWN. */
const EVENT_TIMEOUT_MS = 4000;
/** Pismo's published sandbox ZPK, and the block its PIN/PINBlock tutorial makes with it for PIN 4986 of that PAN. */
const ZPK = { keyId: '7d14ca2e-1057-11ee-8cee-060f666de710', key: '0404F2543B1C6E70AB61586E1304B6A7' };
const TUTORIAL = { pin: '4986', pan: '1234560057855917', pinBlock: 'D04BCCEE7133CF01' };

// Every PIN this suite encrypts; none may appear in any Kafka message or database row.
// Six digits each: a shorter run could turn up by chance inside a UUID or a JWE.
const PINS = ['739164', '582047', '904317', '630958', '815263', '370851', '461938', '248135', '529376', '173946', '286419'];

/**
 * An answer the fake gives; 'hang' never answers, so the worker's timeout fires; 'apply-and-hang'
 * changes the PIN and raises Pismo's events, but the answer never comes back.
 */
type Answer = number | 'hang' | 'apply-and-hang';

interface RecordedCall {
  method: string;
  path: string;
  cardId: string;
  cid: string | undefined;
  token: string | undefined;
  /** The request body without the PIN, which stays in the fake's comparison and goes nowhere else. */
  body: Record<string, unknown>;
  pinMatches?: boolean;
  /** The x-account-id header of a script call. */
  accountId?: string;
}

interface FakeCard {
  pin?: string;
  /** Answers to give, in order; the last one repeats. */
  answers: Answer[];
}

/**
 * Pismo as the worker sees it: the token endpoint, the two card endpoints, and the events Pismo
 * publishes after a change. Only cards the test registered exist.
 */
class FakePismo {
  readonly calls: RecordedCall[] = [];
  readonly tokensIssued: string[] = [];
  private readonly validTokens = new Set<string>();
  private readonly cards = new Map<string, FakeCard>();
  private readonly hanging = new Set<ServerResponse>();
  private server?: Server;

  constructor(private readonly publishPismoEvents: (cardId: string, events: object[]) => Promise<void>) {}

  card(cardId: string, card: Partial<FakeCard> = {}): void {
    this.cards.set(cardId, { answers: [], ...card });
  }

  callsFor(cardId: string): RecordedCall[] {
    return this.calls.filter((call) => call.cardId === cardId);
  }

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      void this.route(request, response).catch((error: Error) => {
        response.writeHead(599).end(error.message);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const text = await new Promise<string>((resolve) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => resolve(body));
    });
    const url = request.url ?? '';
    if (request.method === 'POST' && url === '/token') return this.issueToken(text, response);

    const changePin = /^\/pci\/pcicards\/v2\/pcicards\/card\/([^/]+)$/.exec(url);
    const increase = /^\/api\/wallet\/v2\/cards\/([^/]+)\/password-tries\/increase$/.exec(url);
    const reset = /^\/api\/wallet\/v2\/cards\/([^/]+)\/password-tries\/reset$/.exec(url);
    const script = /^\/pci\/pcicards\/v1\/pcicards\/([^/]+)\/scripts\/(sync-offline-pin|pin-update)$/.exec(url);
    const pinBlock = /^\/pci\/pcicards\/v1\/pcicards\/([^/]+)\/pinblock$/.exec(url);
    const cardId = decodeURIComponent((changePin ?? increase ?? reset ?? script ?? pinBlock)?.[1] ?? '');
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const cid = request.headers['x-cid'] as string | undefined;
    const { pin, ...body } = JSON.parse(text || '{}') as Record<string, unknown>;
    const card = this.cards.get(cardId);
    this.calls.push({
      method: request.method ?? '',
      path: url,
      cardId,
      cid,
      token,
      body,
      ...(changePin || script?.[2] === 'pin-update' ? { pinMatches: card?.pin !== undefined && pin === card.pin } : {}),
      ...(script ? { accountId: request.headers['x-account-id'] as string | undefined } : {}),
    });

    if (!token || !this.validTokens.has(token)) return this.json(response, 401, { message: 'Unauthorized' });
    if (!card || (!changePin && !increase && !reset && !script && !pinBlock)) return this.json(response, 404, { code: 'CARD_NOT_FOUND', message: 'Card not found' });
    const answer = card.answers.length > 1 ? card.answers.shift()! : (card.answers[0] ?? (changePin ? 201 : 200));
    if (answer === 'apply-and-hang') await this.publishPismoEvents(cardId, [pismoEvent('update_password-1', cardId, cid, { status: 'SUCCESS' })]);
    if (answer === 'hang' || answer === 'apply-and-hang') {
      this.hanging.add(response);
      return;
    }
    if (answer === 401) {
      // Pismo's tokens can expire early: this one is dead from now on.
      this.validTokens.delete(token);
      return this.json(response, 401, { message: 'Unauthorized' });
    }
    if (answer >= 300) return this.json(response, answer, { code: `E${answer}`, message: 'Simulated failure' });
    if (increase) return this.json(response, answer, { success: 'Incremented password tries counter' });
    if (reset) return this.json(response, answer, { success: true });
    if (script?.[2] === 'sync-offline-pin') return void response.writeHead(204).end();
    if (pinBlock) {
      await this.publishPismoEvents(cardId, [pismoEvent('update_password-1', cardId, cid, { status: 'SUCCESS' })]);
      return void response.writeHead(204).end();
    }
    if (script) return this.json(response, answer, { card_script_id: 'card-script-1', card_id: cardId, script_id: body.script_id, applied: false });

    const events: object[] = [pismoEvent('update_password-1', cardId, cid, { status: 'SUCCESS' })];
    if (body.sync_offline_pin === true) events.push(pismoEvent('issuer_script-1', cardId, cid, { script_type: 'SYNC_PIN', script_event_type: 'script_created' }));
    // Published before answering, so the event races the HTTP answer to the worker, as it can with Pismo.
    await this.publishPismoEvents(cardId, events);
    return this.json(response, answer, `[${cid}] Card updated`);
  }

  private issueToken(form: string, response: ServerResponse): void {
    const params = new URLSearchParams(form);
    if (params.get('grant_type') !== 'client_credentials' || params.get('client_id') !== CLIENT.id || params.get('client_secret') !== CLIENT.secret) {
      return this.json(response, 401, { error: 'invalid_client' });
    }
    const token = `token-${this.tokensIssued.length + 1}`;
    this.tokensIssued.push(token);
    this.validTokens.add(token);
    this.json(response, 200, { access_token: token, token_type: 'Bearer', expires_in: 300 });
  }

  private json(response: ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }
}

function pismoEvent(eventType: string, cardId: string, cid: string | undefined, data: Record<string, unknown>, eventId = randomUUID()) {
  return {
    event_id: eventId,
    domain: 'cards',
    event_type: eventType,
    schema_version: 1,
    org_id: 'TN-worker-it',
    ...(cid ? { cid } : {}),
    timestamp: new Date().toISOString(),
    data: { card_id: cardId, account_id: 1, program_id: 1, ...data },
  };
}

describe('worker-pismo against a real broker, a real database and a fake Pismo over HTTP', () => {
  let kafka: Kafka;
  let producer: JsonProducer;
  let rawProducer: Producer;
  let recorder: TopicRecorder;
  let prisma: PrismaClient;
  let keyRing: PinKeyRing;
  let keysDir: string;
  let messageKeys: MessageKeyFiles;
  let fake: FakePismo;
  let worker: INestApplication;
  let workerUrl: string;

  const newCard = () => `it-${randomUUID().slice(0, 8)}`;

  /** A command for the card as intake publishes it, checked against the contract. */
  const commandFor = (cardId: string, fields: Record<string, unknown>): PismoCommand => testCommand(pismoCommand, { vendor: 'pismo', cardId, caller: { subject: 'worker-it' }, ...fields });
  /** The command with Pismo's tutorial PIN and PAN sealed to it, as intake seals a PIN block request's. */
  const sealedTutorialPinAndPan = async (unsealed: PismoCommand): Promise<PismoCommand> =>
    ({
      ...unsealed,
      encryptedPin: await sealForCommand('pin', TUTORIAL.pin, keyRing, unsealed),
      encryptedPan: await sealForCommand('pan', TUTORIAL.pan, keyRing, unsealed),
    }) as PismoCommand;

  async function changePinCommand(cardId: string, pin: string, syncOfflinePin = false): Promise<PismoChangePinCommand> {
    const command = commandFor(cardId, { operation: 'change_pin', encryptedPin: 'a.b.c.d.e', syncOfflinePin }) as PismoChangePinCommand;
    return { ...command, encryptedPin: await sealForCommand('pin', pin, keyRing, command) };
  }

  function increaseCommand(cardId: string): PismoCommand {
    return commandFor(cardId, { operation: 'increase_password_tries', blockCardExceedsCounter: true });
  }

  function resetCommand(cardId: string): PismoCommand {
    return commandFor(cardId, { operation: 'reset_password_tries' });
  }

  async function send(...commands: PismoCommand[]): Promise<void> {
    await producer.send(COMMANDS, pismoCommand, commands.map((command) => ({ key: command.cardId, value: command })));
  }

  async function publishPismoEvents(cardId: string, events: object[]): Promise<void> {
    await rawProducer.send({ topic: PISMO_EVENTS, messages: events.map((event) => ({ key: cardId, value: JSON.stringify(event) })) });
  }

  const eventsFor = (cardId: string, type?: string) =>
    recorder.json<PinflowEvent>(EVENTS_TOPIC).filter((event) => event.subject === cardId && (type === undefined || event.type === type));

  const nextEvent = (cardId: string, type: string) =>
    recorder.waitForJson<PinflowEvent>(EVENTS_TOPIC, (event) => event.subject === cardId && event.type === type);

  const stateOf = async (commandId: string) => (await prisma.vendorCommand.findUniqueOrThrow({ where: { commandId } })).state;

  /** A PIN change as a worker left it when it stopped after claiming it, `callsCounted` calls counted. */
  async function stoppedAfterClaiming(pin: string, callsCounted: number): Promise<PismoChangePinCommand> {
    const cardId = newCard();
    fake.card(cardId, { pin });
    const command = await changePinCommand(cardId, pin);
    await prisma.vendorCommand.create({
      data: { commandId: command.commandId, vendor: 'pismo', requestId: command.requestId, cardId, operation: 'change_pin', state: 'CALLING', correlationId: command.commandId, attempts: callsCounted },
    });
    return command;
  }

  // Pismo's events settle a command just after their pinflow event is out, so the row may lag the event.
  const settledAs = (commandId: string, state: string) => waitFor(`command ${commandId} to be ${state}`, async () => (await stateOf(commandId)) === state, 10_000);

  beforeAll(async () => {
    const { kafkaBrokers, databaseUrl } = testEnv();
    const logger = createLogger('worker-int-spec', 'silent');
    kafka = createKafka(
      { KAFKA_BROKERS: kafkaBrokers.split(','), KAFKA_COMMAND_PARTITIONS: 6, KAFKA_EVENT_PARTITIONS: 6, KAFKA_REPLICATION_FACTOR: 1, KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY: 1 },
      'worker-int-spec',
      logger,
    );
    rawProducer = kafka.producer({ allowAutoTopicCreation: false });
    prisma = createPrismaClient(databaseUrl, 2);
    keyRing = await generatePinKeyRing();
    keysDir = await mkdtemp(path.join(tmpdir(), 'worker-pismo-it-'));
    messageKeys = writeMessageKeyFiles(path.join(keysDir, 'message-keys'));
    producer = new JsonProducer(kafka, messageKeys.signerOf(INTAKE_SIGNER));
    await writePinKeyRingFile(path.join(keysDir, 'command-keys.json'), keyRing);
    fake = new FakePismo(publishPismoEvents);
    const pismoUrl = await fake.start();

    const zpkFile = path.join(mkdtempSync(path.join(tmpdir(), 'worker-pismo-it-')), 'zpk.json');
    writeFileSync(zpkFile, JSON.stringify(ZPK));
    const config = workerConfigSchema.parse({
      PORT: '0',
      LOG_LEVEL: 'silent',
      KAFKA_BROKERS: kafkaBrokers,
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: '4',
      COMMAND_KEYS_FILE: path.join(keysDir, 'command-keys.json'),
      MESSAGE_SIGNING_KEY_FILE: messageKeys.signingKeyFiles['worker-pismo'],
      MESSAGE_SIGNERS_FILE: messageKeys.signersFile,
      PISMO_PCI_BASE_URL: `${pismoUrl}/pci`,
      PISMO_API_BASE_URL: `${pismoUrl}/api/`,
      PISMO_TOKEN_URL: `${pismoUrl}/token`,
      PISMO_CLIENT_ID: CLIENT.id,
      PISMO_CLIENT_SECRET: CLIENT.secret,
      PISMO_EVENTS_TOPIC: PISMO_EVENTS,
      PISMO_ZPK_FILE: zpkFile,
      PISMO_HTTP_TIMEOUT_MS: String(HTTP_TIMEOUT_MS),
      PISMO_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      PISMO_RETRY_BASE_MS: '10',
      PISMO_EVENT_TIMEOUT_MS: String(EVENT_TIMEOUT_MS),
      WORKER_COMMAND_GROUP: `it-worker-commands-${randomUUID()}`,
      WORKER_VENDOR_EVENT_GROUP: `it-worker-pismo-events-${randomUUID()}`,
    });
    worker = await startHttpApp(AppModule.forRoot(config), { service: 'worker-pismo', host: '127.0.0.1', port: 0, beforeListen: connectKafkaTransport });
    workerUrl = await worker.getUrl();
    await Promise.all([producer.connect(), rawProducer.connect()]);
    // The worker created every topic it uses at start-up, so the recorder can subscribe to them.
    recorder = await new TopicRecorder(kafkaBrokers, [EVENTS_TOPIC, COMMANDS, PISMO_EVENTS]).start();
    await waitFor('the worker to be ready', async () => (await fetch(`${workerUrl}/health/ready`)).ok, 60_000);
  }, 120_000);

  afterAll(async () => {
    await worker?.close();
    await recorder?.stop();
    await producer?.disconnect();
    await rawProducer?.disconnect();
    await fake?.stop();
    await prisma?.$disconnect();
    await rm(keysDir, { recursive: true, force: true });
  });

  it('is ready once both consumers joined their groups and the database answers', async () => {
    const response = await fetch(`${workerUrl}/health/ready`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { info: unknown }).info).toEqual({
      database: { status: 'up' },
      'command-consumer': { status: 'up' },
      'pismo-event-consumer': { status: 'up' },
      'pismo-circuit-breaker': { status: 'up' },
    });
    expect((await fetch(`${workerUrl}/health/live`)).status).toBe(200);
  });

  it('changes a PIN: Pismo gets the decrypted PIN with the command id as x-cid, and its update_password event becomes password.changed', async () => {
    const cardId = newCard();
    fake.card(cardId, { pin: PINS[0] });
    const command = await changePinCommand(cardId, PINS[0]);

    await send(command);
    const changed = await nextEvent(cardId, EVENT_TYPES.passwordChanged);

    expect(fake.callsFor(cardId)).toEqual([
      {
        method: 'PUT',
        path: `/pci/pcicards/v2/pcicards/card/${cardId}`,
        cardId,
        cid: command.commandId,
        token: expect.stringMatching(/^token-/),
        body: { sync_offline_pin: false },
        pinMatches: true,
      },
    ]);
    expect(changed).toMatchObject({
      source: '/pinflow/worker-pismo',
      subject: cardId,
      data: { vendor: 'pismo', requestId: command.requestId, commandId: command.commandId, vendorEventId: expect.any(String), syncOfflinePin: false },
    });
    await settledAs(command.commandId, 'SUCCEEDED');
  });

  it('with syncOfflinePin, reports the issuer script Pismo creates for the request', async () => {
    const cardId = newCard();
    fake.card(cardId, { pin: PINS[1] });
    const command = await changePinCommand(cardId, PINS[1], true);

    await send(command);
    const script = await nextEvent(cardId, EVENT_TYPES.issuerScriptRequested);
    const changed = await nextEvent(cardId, EVENT_TYPES.passwordChanged);

    expect(fake.callsFor(cardId)).toMatchObject([{ body: { sync_offline_pin: true }, pinMatches: true }]);
    expect(script.data).toEqual({
      vendor: 'pismo',
      requestId: command.requestId,
      commandId: command.commandId,
      vendorEventId: expect.any(String),
      scriptType: 'SYNC_PIN',
      scriptStatus: 'script_created',
    });
    expect(changed.data).toMatchObject({ requestId: command.requestId, syncOfflinePin: true });
  });

  it('increases password tries and reports it on Pismo’s 200', async () => {
    const cardId = newCard();
    fake.card(cardId);
    const command = increaseCommand(cardId);

    await send(command);
    const increased = await nextEvent(cardId, EVENT_TYPES.passwordTriesIncreased);

    expect(fake.callsFor(cardId)).toMatchObject([
      { method: 'POST', path: `/api/wallet/v2/cards/${cardId}/password-tries/increase`, cid: command.commandId, body: { block_card_exceeds_counter: true } },
    ]);
    expect(increased.data).toEqual({ vendor: 'pismo', requestId: command.requestId, commandId: command.commandId, blockCardExceedsCounter: true });
    expect(await stateOf(command.commandId)).toBe('SUCCEEDED');
  });

  it('resets password tries with a bodiless call carrying the x-cid, and reports it on Pismo’s 200', async () => {
    const cardId = newCard();
    fake.card(cardId);
    const command = resetCommand(cardId);

    await send(command);
    const reset = await nextEvent(cardId, EVENT_TYPES.passwordTriesReset);

    expect(fake.callsFor(cardId)).toMatchObject([{ method: 'POST', path: `/api/wallet/v2/cards/${cardId}/password-tries/reset`, cid: command.commandId, body: {} }]);
    expect(reset.data).toEqual({ vendor: 'pismo', requestId: command.requestId, commandId: command.commandId });
    expect(await stateOf(command.commandId)).toBe('SUCCEEDED');
  });

  it('syncs the offline PIN with a bodiless call to the PCI host, and reports issuer_script.appended on Pismo’s 204', async () => {
    const cardId = newCard();
    fake.card(cardId);
    const command: PismoCommand = commandFor(cardId, { operation: 'sync_offline_pin' });

    await send(command);
    const appended = await nextEvent(cardId, EVENT_TYPES.issuerScriptAppended);

    expect(fake.callsFor(cardId)).toMatchObject([{ method: 'POST', path: `/pci/pcicards/v1/pcicards/${cardId}/scripts/sync-offline-pin`, cid: command.commandId, body: {} }]);
    expect(appended.data).toEqual({ vendor: 'pismo', requestId: command.requestId, commandId: command.commandId, scriptType: 'SYNC_PIN' });
  });

  it('appends a PIN update script with the decrypted PIN, the script id and the account header, and reports the card script', async () => {
    const cardId = newCard();
    fake.card(cardId, { pin: PINS[10] });
    const unsealed = commandFor(cardId, { operation: 'update_offline_pin', encryptedPin: 'a.b.c.d.e', scriptId: 'issuer-script-1', accountId: '8675309' });
    const command: PismoCommand = { ...unsealed, encryptedPin: await sealForCommand('pin', PINS[10], keyRing, unsealed) } as PismoCommand;

    await send(command);
    const appended = await nextEvent(cardId, EVENT_TYPES.issuerScriptAppended);

    expect(fake.callsFor(cardId)).toMatchObject([
      { method: 'POST', path: `/pci/pcicards/v1/pcicards/${cardId}/scripts/pin-update`, cid: command.commandId, accountId: '8675309', body: { script_id: 'issuer-script-1' }, pinMatches: true },
    ]);
    expect(appended.data).toEqual({ vendor: 'pismo', requestId: command.requestId, commandId: command.commandId, scriptType: 'PIN_UPDATE', cardScriptId: 'card-script-1' });
  });

  it('appends a PIN update script from the PIN and the PAN as the PIN block endpoint gets it: the format 0 block under the ZPK and its key id', async () => {
    const cardId = newCard();
    fake.card(cardId);
    const unsealed = commandFor(cardId, { operation: 'update_offline_pin', encryptedPin: 'a.b.c.d.e', encryptedPan: 'a.b.c.d.e', scriptId: 'issuer-script-1', accountId: '8675309' });
    const command = await sealedTutorialPinAndPan(unsealed);

    await send(command);
    await nextEvent(cardId, EVENT_TYPES.issuerScriptAppended);

    expect(fake.callsFor(cardId)).toMatchObject([
      { method: 'POST', path: `/pci/pcicards/v1/pcicards/${cardId}/scripts/pin-update`, accountId: '8675309', body: { script_id: 'issuer-script-1', pin_block: TUTORIAL.pinBlock, key_id: ZPK.keyId } },
    ]);
  });

  it('changes a PIN from a PIN block: the ISO 9564 format 0 block under the ZPK, its key id, the command id as x-cid; update_password-1 ends it', async () => {
    const cardId = newCard();
    fake.card(cardId);
    const unsealed = commandFor(cardId, { operation: 'update_pin_block', encryptedPin: 'a.b.c.d.e', encryptedPan: 'a.b.c.d.e', syncOfflinePin: true });
    const command = await sealedTutorialPinAndPan(unsealed);

    await send(command);
    const changed = await nextEvent(cardId, EVENT_TYPES.passwordChanged);

    expect(fake.callsFor(cardId)).toEqual([
      {
        method: 'PUT',
        path: `/pci/pcicards/v1/pcicards/${cardId}/pinblock`,
        cardId,
        cid: command.commandId,
        token: expect.stringMatching(/^token-/),
        body: { pinblock: TUTORIAL.pinBlock, key_id: ZPK.keyId, sync_offline_pin: true },
      },
    ]);
    expect(changed.data).toEqual({ vendor: 'pismo', requestId: command.requestId, commandId: command.commandId, vendorEventId: expect.any(String), syncOfflinePin: true });
    await settledAs(command.commandId, 'SUCCEEDED');
  });

  it('changes a PIN from a clear ISO0 block made elsewhere (a Thales D1 push): enciphered under the ZPK as its own are, to the same endpoint', async () => {
    const cardId = newCard();
    fake.card(cardId);
    const unsealed = commandFor(cardId, { operation: 'update_pin_block', pinBlockSource: 'iso0_block', encryptedPinBlock: 'a.b.c.d.e', syncOfflinePin: false });
    const command = { ...unsealed, encryptedPinBlock: await sealForCommand('pinBlock', iso0Block(TUTORIAL.pin, TUTORIAL.pan), keyRing, unsealed) } as PismoCommand;

    await send(command);
    await nextEvent(cardId, EVENT_TYPES.passwordChanged);

    expect(fake.callsFor(cardId)).toMatchObject([{ method: 'PUT', path: `/pci/pcicards/v1/pcicards/${cardId}/pinblock`, cid: command.commandId, body: { pinblock: TUTORIAL.pinBlock, key_id: ZPK.keyId, sync_offline_pin: false } }]);
    await settledAs(command.commandId, 'SUCCEEDED');
  });

  it('reports a block Pismo raised on its own, without request ids, once even when Pismo delivers it twice', async () => {
    const cardId = newCard();
    const block = pismoEvent('update-1', cardId, randomUUID(), { card_status: 'BLOCKED', card_previous_status: 'NORMAL' });
    const laterBlock = pismoEvent('update-1', cardId, undefined, { card_status: 'blocked', card_previous_status: 'warning' });
    const unblock = pismoEvent('update-1', cardId, undefined, { card_status: 'NORMAL', card_previous_status: 'BLOCKED' });

    // Same key, same partition: once the last event is reported, the ones before it were handled.
    await publishPismoEvents(cardId, [block, block, unblock, laterBlock]);
    await recorder.waitForJson<PinflowEvent>(EVENTS_TOPIC, (event) => event.data.vendorEventId === laterBlock.event_id);

    const reported = eventsFor(cardId);
    expect(reported.map((event) => [event.type, event.data.vendorEventId])).toEqual([
      [EVENT_TYPES.cardBlocked, block.event_id],
      [EVENT_TYPES.cardBlocked, laterBlock.event_id],
    ]);
    expect(reported[0].data).toEqual({ vendor: 'pismo', vendorEventId: block.event_id, previousStatus: 'NORMAL' });
    expect(reported[1].data).toMatchObject({ previousStatus: 'WARNING' });
  });

  it('fails with CARD_NOT_FOUND and the vendor status when Pismo answers 404, without retrying', async () => {
    const cardId = newCard();
    const command = await changePinCommand(cardId, PINS[2]);

    await send(command);
    const failed = await nextEvent(cardId, EVENT_TYPES.failed);

    expect(fake.callsFor(cardId)).toHaveLength(1);
    expect(failed.data).toEqual({
      vendor: 'pismo',
      requestId: command.requestId,
      commandId: command.commandId,
      operation: 'change_pin',
      reason: 'CARD_NOT_FOUND',
      vendorStatus: 404,
      vendorError: { code: 'CARD_NOT_FOUND', detail: 'Card not found' },
    });
    expect(await stateOf(command.commandId)).toBe('FAILED');
  });

  it('retries a 500 and succeeds once on the 201 that follows', async () => {
    const cardId = newCard();
    fake.card(cardId, { pin: PINS[3], answers: [500, 201] });
    const command = await changePinCommand(cardId, PINS[3]);

    await send(command);
    await nextEvent(cardId, EVENT_TYPES.passwordChanged);

    expect(fake.callsFor(cardId).map((call) => call.cid)).toEqual([command.commandId, command.commandId]);
    expect(eventsFor(cardId).map((event) => event.type)).toEqual([EVENT_TYPES.passwordChanged]);
    expect((await prisma.vendorCommand.findUniqueOrThrow({ where: { commandId: command.commandId } })).attempts).toBe(2);
  });

  it('never repeats a PIN change whose answer timed out: Pismo’s update_password event, which comes anyway, settles it', async () => {
    const cardId = newCard();
    fake.card(cardId, { pin: PINS[8], answers: ['apply-and-hang', 201] });
    const command = await changePinCommand(cardId, PINS[8]);

    await send(command);
    const changed = await nextEvent(cardId, EVENT_TYPES.passwordChanged);
    await settledAs(command.commandId, 'SUCCEEDED');
    // Longer than the event timeout: no second outcome follows.
    await new Promise((resolve) => setTimeout(resolve, EVENT_TIMEOUT_MS + 2000));

    expect(fake.callsFor(cardId)).toHaveLength(1);
    expect(changed.data).toMatchObject({ commandId: command.commandId, requestId: command.requestId });
    expect(eventsFor(cardId).map((event) => event.type)).toEqual([EVENT_TYPES.passwordChanged]);
  });

  it('never repeats a call that timed out, which Pismo may have applied: a tries increase, which raises no event, fails with OUTCOME_UNKNOWN', async () => {
    const cardId = newCard();
    fake.card(cardId, { answers: ['hang', 200] });
    const command = increaseCommand(cardId);

    await send(command);
    const failed = await nextEvent(cardId, EVENT_TYPES.failed);

    expect(fake.callsFor(cardId)).toHaveLength(1);
    expect(failed.data).toMatchObject({ commandId: command.commandId, reason: 'OUTCOME_UNKNOWN' });
    expect(await stateOf(command.commandId)).toBe('FAILED');
  });

  it('gives up with VENDOR_UNAVAILABLE after the configured attempts when Pismo keeps answering 500', async () => {
    const cardId = newCard();
    fake.card(cardId, { pin: PINS[4], answers: [500] });
    const command = await changePinCommand(cardId, PINS[4]);

    await send(command);
    const failed = await nextEvent(cardId, EVENT_TYPES.failed);

    expect(fake.callsFor(cardId)).toHaveLength(MAX_ATTEMPTS);
    expect(failed.data).toMatchObject({ commandId: command.commandId, reason: 'VENDOR_UNAVAILABLE', vendorStatus: 500 });
  });

  it('on a 401, fetches a fresh token and retries the call once', async () => {
    const cardId = newCard();
    fake.card(cardId, { pin: PINS[5], answers: [401, 201] });
    const tokensBefore = fake.tokensIssued.length;

    await send(await changePinCommand(cardId, PINS[5]));
    await nextEvent(cardId, EVENT_TYPES.passwordChanged);

    const calls = fake.callsFor(cardId);
    expect(calls).toHaveLength(2);
    expect(fake.tokensIssued.length).toBe(tokensBefore + 1);
    expect(calls[1].token).toBe(fake.tokensIssued.at(-1));
    expect(calls[1].token).not.toBe(calls[0].token);
  });

  it('fails with VENDOR_UNAUTHORIZED when the fresh token is refused too', async () => {
    const cardId = newCard();
    fake.card(cardId, { answers: [401] });

    await send(increaseCommand(cardId));
    const failed = await nextEvent(cardId, EVENT_TYPES.failed);

    expect(fake.callsFor(cardId)).toHaveLength(2);
    expect(failed.data).toMatchObject({ reason: 'VENDOR_UNAUTHORIZED', vendorStatus: 401 });
  });

  it('calls Pismo once for a command delivered twice', async () => {
    const cardId = newCard();
    fake.card(cardId, { pin: PINS[6] });
    const command = await changePinCommand(cardId, PINS[6]);
    const marker = increaseCommand(cardId);

    // Same card, same partition: once the marker is handled, so is the duplicate before it.
    await send(command, command, marker);
    await nextEvent(cardId, EVENT_TYPES.passwordTriesIncreased);
    await nextEvent(cardId, EVENT_TYPES.passwordChanged);

    expect(fake.callsFor(cardId).map((call) => call.method)).toEqual(['PUT', 'POST']);
    expect(eventsFor(cardId, EVENT_TYPES.passwordChanged)).toHaveLength(1);
  });

  it('never calls again for a PIN change a crashed worker left mid-call: it awaits Pismo’s event, and fails with OUTCOME_UNKNOWN when none comes in time', async () => {
    const command = await stoppedAfterClaiming(PINS[7], 1);
    const { cardId } = command;

    await send(command);
    await settledAs(command.commandId, 'AWAITING_VENDOR_EVENT');
    const failed = await nextEvent(cardId, EVENT_TYPES.failed);

    expect(fake.callsFor(cardId)).toEqual([]);
    expect(failed.data).toMatchObject({ commandId: command.commandId, requestId: command.requestId, reason: 'OUTCOME_UNKNOWN' });
    expect(await stateOf(command.commandId)).toBe('FAILED');
  });

  it('calls Pismo once for a PIN change claimed but never called (the step after the claim failed), and settles it by Pismo’s event instead of waiting for one that cannot come', async () => {
    const command = await stoppedAfterClaiming(PINS[9], 0);
    const { cardId } = command;

    await send(command);
    await nextEvent(cardId, EVENT_TYPES.passwordChanged);

    expect(fake.callsFor(cardId)).toEqual([expect.objectContaining({ method: 'PUT', cid: command.commandId, pinMatches: true })]);
    await settledAs(command.commandId, 'SUCCEEDED');
    expect(eventsFor(cardId, EVENT_TYPES.failed)).toEqual([]);
  });

  it('publishes the recorded outcome of a redelivered command that ended before its event left, without calling again', async () => {
    const cardId = newCard();
    fake.card(cardId);
    const command = increaseCommand(cardId);
    const outcome = {
      specversion: '1.0',
      id: randomUUID(),
      source: '/pinflow/worker-pismo',
      type: EVENT_TYPES.passwordTriesIncreased,
      subject: cardId,
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      data: { vendor: 'pismo', requestId: command.requestId, commandId: command.commandId, blockCardExceedsCounter: true },
    };
    await prisma.vendorCommand.create({
      data: { commandId: command.commandId, vendor: 'pismo', requestId: command.requestId, cardId, operation: command.operation, state: 'SUCCEEDED', correlationId: command.commandId, attempts: 1, vendorStatus: 200, outcomeEvent: outcome },
    });

    await send(command);
    const published = await nextEvent(cardId, EVENT_TYPES.passwordTriesIncreased);

    expect(published).toEqual(outcome);
    expect(fake.callsFor(cardId)).toEqual([]);
    await waitFor('the outcome to be marked published', async () =>
      (await prisma.vendorCommand.findUniqueOrThrow({ where: { commandId: command.commandId } })).outcomePublishedAt !== null,
    );
  });

  it('fails with UNDECRYPTABLE_PIN, without calling Pismo, when the JWE cannot be decrypted', async () => {
    const cardId = newCard();
    fake.card(cardId);
    const command: PismoCommand = commandFor(cardId, { operation: 'change_pin', encryptedPin: 'eyJhbGciOiJub25lIn0.AAAA.BBBB.CCCC.DDDD', syncOfflinePin: false });

    await send(command);
    const failed = await nextEvent(cardId, EVENT_TYPES.failed);

    expect(failed.data).toEqual({ vendor: 'pismo', requestId: command.requestId, commandId: command.commandId, operation: 'change_pin', reason: 'UNDECRYPTABLE_PIN' });
    expect(fake.callsFor(cardId)).toEqual([]);
  });

  it('fails with UNDECRYPTABLE_PIN when the PIN was encrypted to a key the worker does not hold', async () => {
    const cardId = newCard();
    fake.card(cardId);
    const unsealed = commandFor(cardId, { operation: 'change_pin', encryptedPin: 'a.b.c.d.e', syncOfflinePin: false });
    const command: PismoCommand = { ...unsealed, encryptedPin: await sealForCommand('pin', PINS[8], await generatePinKeyRing(), unsealed) } as PismoCommand;

    await send(command);
    const failed = await nextEvent(cardId, EVENT_TYPES.failed);

    expect(failed.data).toMatchObject({ reason: 'UNDECRYPTABLE_PIN' });
    expect(fake.callsFor(cardId)).toEqual([]);
  });

  it('fails a command that breaks the contract with INVALID_COMMAND when it names its request', async () => {
    const cardId = newCard();
    fake.card(cardId);
    const { encryptedPin: _missing, ...broken } = await changePinCommand(cardId, PINS[0]);

    // Signed by intake, as a command of an older intake would be: the contract, not the signature, is what is wrong.
    const value = Buffer.from(JSON.stringify(broken));
    await rawProducer.send({ topic: COMMANDS, messages: [{ key: cardId, value, headers: { [MESSAGE_SIGNATURE_HEADER]: messageKeys.signerOf(INTAKE_SIGNER).sign(COMMANDS, value) } }] });
    const failed = await nextEvent(cardId, EVENT_TYPES.failed);

    expect(failed.data).toMatchObject({ commandId: broken.commandId, requestId: broken.requestId, operation: 'change_pin', reason: 'INVALID_COMMAND' });
    expect(fake.callsFor(cardId)).toEqual([]);
  });

  it('leaves no PIN in any Kafka message and neither a PIN nor a JWE in its table', async () => {
    // Runs last: by now every PIN above went through the worker.
    const kafkaText = recorder.messages.map((message) => `${message.key} ${message.value} ${JSON.stringify(message.headers)}`).join('\n');
    expect(recorder.json(EVENTS_TOPIC).length).toBeGreaterThan(15);
    expect(PINS.filter((pin) => kafkaText.includes(pin))).toEqual([]);

    const rows = JSON.stringify(await prisma.vendorCommand.findMany());
    const jwes = recorder.json<{ encryptedPin?: string }>(COMMANDS).flatMap((command) => (command.encryptedPin ? [command.encryptedPin] : []));
    expect(jwes.length).toBeGreaterThan(5);
    expect(PINS.filter((pin) => rows.includes(pin))).toEqual([]);
    expect(jwes.filter((jwe) => rows.includes(jwe))).toEqual([]);
  });
});
