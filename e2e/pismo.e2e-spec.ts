import { PIN_READ_SCOPE, PIN_WRITE_SCOPE } from '@pinflow/auth';
import { commandTopic, EVENTS_TOPIC, EVENT_TYPES } from '@pinflow/contracts';
import { iso0Block, testEnv, TopicRecorder, waitFor } from '@pinflow/testing';
import { randomUUID } from 'node:crypto';
import { encryptSecret } from '@pinflow/pin-crypto';
import { PISMO_EVENTS_TOPIC, Stack } from '@pinflow/platform';
import { dumpDatabase, http, occurrences, PinflowClient, readLogs, shortPinOccurrences, startSuite, Suite } from './support';

/**
 * The whole Pismo path as users see it: HTTP into intake, Kafka, the worker, the Pismo sandbox over
 * HTTP, Pismo's events back over Kafka, the audit trail; each service its own process.
 */
describe('Pismo PIN changes end to end', () => {
  const COMMAND_TOPIC = commandTopic('pismo');
  // Every PIN this suite sends anywhere; none may be found outside memory afterwards.
  const PINS = {
    plain: '739146',
    synced: '582047',
    sixDigit: '904317',
    fourDigit: '6093',
    repeated: '815263',
    other: '370851',
    unknownCard: '461938',
    syncedLater: '650284',
    chipOnly: '207593',
    chipOnlyByBlock: '518362',
    chipOnlyOtherCard: '846027',
  };
  // The PANs the PIN-block scripts are made with: no more to be found afterwards than the PINs.
  const PANS = { card: '4000123412341234', otherCard: '4000123412349997' };
  const REJECTED_PINS = { weak: '123456', repeatedDigits: '1111', malformed: '12a4', tooLong: '1234567' };

  let suite: Suite;
  let stack: Stack;
  let client: PinflowClient;
  let recorder: TopicRecorder;
  let writeToken: string;
  let readToken: string;
  const newCard = () => `card-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    suite = await startSuite({
      env: { 'worker-pismo': { PISMO_RETRY_BASE_MS: '50' } },
      writer: 'mobile-backend',
      topics: [COMMAND_TOPIC, EVENTS_TOPIC, PISMO_EVENTS_TOPIC],
    });
    ({ stack, client, recorder, writeToken, readToken } = suite);
  }, 180_000);

  afterAll(() => suite?.stop(), 60_000);

  it('changes a PIN: 202 with a status URL, then succeeded with the password-changed event, and Pismo holds the new PIN', async () => {
    const cardId = newCard();
    await client.seedCard(cardId);

    const accepted = await client.changePin(cardId, { encryptedPin: await client.encrypt(PINS.plain) });

    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({ requestId: expect.any(String), status: 'accepted', statusUrl: `${stack.urls.intake}/v1/requests/${accepted.body.requestId}` });
    expect(accepted.headers.get('location')).toBe(accepted.body.statusUrl);
    const outcome = await client.outcome(accepted.body.requestId);
    expect(outcome.status).toBe('succeeded');
    expect(outcome.events.map((event: { type: string }) => event.type)).toEqual(expect.arrayContaining([EVENT_TYPES.accepted, EVENT_TYPES.passwordChanged]));
    expect((await client.sandbox('POST', `/sandbox/cards/${cardId}/verify-pin`, { pin: PINS.plain })).body).toEqual({ matches: true });
  });

  it('shows the change on /metrics: intake its request and outcome, the worker its vendor call and ledger, every consumer its lag; no card id anywhere', async () => {
    const cardId = newCard();
    await client.seedCard(cardId);
    const accepted = await client.changePin(cardId, { encryptedPin: await client.encrypt(PINS.plain) });
    expect((await client.outcome(accepted.body.requestId)).status).toBe('succeeded');

    const scrape = async (app: 'intake' | 'worker-pismo' | 'audit') => {
      const { status, body } = await http<string>('GET', `${stack.urls[app]}/metrics`);
      expect(status).toBe(200);
      expect(body).not.toContain(cardId);
      expect(body).not.toContain(accepted.body.requestId);
      return body;
    };
    const intake = await scrape('intake');
    expect(intake).toMatch(/^pinflow_http_request_duration_seconds_count\{method="POST",route="\/v1\/pismo\/cards\/:cardId\/pin",status="202"\} [1-9]/m);
    expect(intake).toMatch(/^pinflow_request_outcome_seconds_count\{vendor="pismo",operation="change_pin",status="succeeded"\} [1-9]/m);
    expect(intake).toMatch(/^pinflow_kafka_consumer_lag\{group="[^"]+",topic="pinflow\.events\.v1",partition="\d+"\} \d+$/m);
    expect(intake).toMatch(/^pinflow_outbox_backlog \d+$/m);
    expect(intake).toMatch(/^pinflow_outbox_oldest_age_seconds [\d.e+-]+$/m);

    const worker = await scrape('worker-pismo');
    expect(worker).toMatch(/^pinflow_vendor_call_duration_seconds_count\{vendor="pismo",outcome="answered",code="2\d\d"\} [1-9]/m);
    expect(worker).toContain('pinflow_vendor_circuit_state{vendor="pismo",state="closed"} 1');
    expect(worker).toMatch(/^pinflow_vendor_commands\{vendor="pismo",state="AWAITING_VENDOR_EVENT"\} \d+$/m);
    expect(worker).not.toMatch(/^pinflow_vendor_commands\{vendor="pismo",state="SUCCEEDED"\}/m);
    expect(worker).toMatch(/^pinflow_kafka_consumer_lag\{group="[^"]+",topic="pinflow\.commands\.pismo\.v1",partition="\d+"\} \d+$/m);
    expect(worker).toMatch(/^pinflow_dead_letters_total\{reason="RETRIES_EXHAUSTED",topic="pinflow\.commands\.pismo\.v1"\} \d+$/m);

    expect(await scrape('audit')).toMatch(/^pinflow_kafka_consumer_lag\{group="[^"]+",topic="pinflow\.events\.v1",partition="\d+"\} \d+$/m);
  });

  it('accepts 4- and 6-digit PINs, as Pismo does', async () => {
    for (const pin of [PINS.fourDigit, PINS.sixDigit]) {
      const cardId = newCard();
      await client.seedCard(cardId);
      const accepted = await client.changePin(cardId, { encryptedPin: await client.encrypt(pin) });
      expect((await client.outcome(accepted.body.requestId)).status).toBe('succeeded');
      expect((await client.sandbox('POST', `/sandbox/cards/${cardId}/verify-pin`, { pin })).body).toEqual({ matches: true });
    }
  });

  it('with syncOfflinePin, reports the issuer script Pismo creates and, after a chip authorization, applies', async () => {
    const cardId = newCard();
    await client.seedCard(cardId);

    const accepted = await client.changePin(cardId, { encryptedPin: await client.encrypt(PINS.synced), syncOfflinePin: true });
    expect((await client.outcome(accepted.body.requestId)).status).toBe('succeeded');
    const scriptEvents = () => recorder.json<any>(EVENTS_TOPIC).filter((event) => event.subject === cardId && event.type === EVENT_TYPES.issuerScriptRequested);
    await waitFor('the issuer script event', async () => scriptEvents().length === 1);
    expect(scriptEvents()[0].data).toMatchObject({ requestId: accepted.body.requestId, scriptType: 'SYNC_PIN', scriptStatus: expect.stringMatching(/created/i) });

    await client.sandbox('POST', `/sandbox/cards/${cardId}/contact-authorization`);
    await waitFor('the applied script event', async () => scriptEvents().some((event) => /applied/i.test(event.data.scriptStatus)));
  });

  it('syncs the offline PIN on its own: succeeded with issuer_script.appended, then the script’s events, and the chip takes the online PIN', async () => {
    const cardId = newCard();
    await client.seedCard(cardId);
    expect((await client.outcome((await client.changePin(cardId, { encryptedPin: await client.encrypt(PINS.syncedLater) })).body.requestId)).status).toBe('succeeded');

    const accepted = await client.submit(`/v1/pismo/cards/${cardId}/offline-pin/sync`, undefined);

    expect(accepted.status).toBe(202);
    const outcome = await client.outcome(accepted.body.requestId);
    expect(outcome.status).toBe('succeeded');
    expect(outcome.events.find((event: { type: string }) => event.type === EVENT_TYPES.issuerScriptAppended).data).toMatchObject({ scriptType: 'SYNC_PIN' });
    const scriptEvents = () => recorder.json<any>(EVENTS_TOPIC).filter((event) => event.subject === cardId && event.type === EVENT_TYPES.issuerScriptRequested);
    await waitFor('the issuer script event of the request', async () => scriptEvents().some((event) => event.data.requestId === accepted.body.requestId));
    await client.sandbox('POST', `/sandbox/cards/${cardId}/contact-authorization`);
    expect((await client.sandbox('POST', `/sandbox/cards/${cardId}/verify-offline-pin`, { pin: PINS.syncedLater })).body).toEqual({ matches: true });
  });

  it('writes a PIN to the chip only through the issuer’s PIN update script, leaving the online PIN alone', async () => {
    const cardId = newCard();
    await client.seedCard(cardId, { accountId: 8675309 });

    const accepted = await client.submit(`/v1/pismo/cards/${cardId}/offline-pin`, { encryptedPin: await client.encrypt(PINS.chipOnly), scriptId: 'issuer-pin-update', accountId: '8675309' });

    expect(accepted.status).toBe(202);
    const outcome = await client.outcome(accepted.body.requestId);
    expect(outcome.status).toBe('succeeded');
    expect(outcome.events.find((event: { type: string }) => event.type === EVENT_TYPES.issuerScriptAppended).data).toMatchObject({ scriptType: 'PIN_UPDATE', cardScriptId: expect.any(String) });
    await client.sandbox('POST', `/sandbox/cards/${cardId}/contact-authorization`);
    expect((await client.sandbox('POST', `/sandbox/cards/${cardId}/verify-offline-pin`, { pin: PINS.chipOnly })).body).toEqual({ matches: true });
    expect((await client.sandbox('POST', `/sandbox/cards/${cardId}/verify-pin`, { pin: PINS.chipOnly })).body).toEqual({ matches: false });
  });

  it('with the card’s PAN, writes the PIN to the chip as a PIN block under the zone PIN key: the chip takes it, the online PIN is left alone', async () => {
    const cardId = newCard();
    await client.seedCard(cardId, { accountId: 8675309, pan: PANS.card });
    const key = stack.secrets.pinKeyRing.currentPublicJwk;

    const accepted = await client.submit(`/v1/pismo/cards/${cardId}/offline-pin`, { encryptedPin: await client.encrypt(PINS.chipOnlyByBlock), encryptedPan: await encryptSecret('pan', PANS.card, key), scriptId: 'issuer-pin-update', accountId: '8675309' });

    expect(accepted.status).toBe(202);
    const outcome = await client.outcome(accepted.body.requestId);
    expect(outcome.status).toBe('succeeded');
    expect(outcome.events.find((event: { type: string }) => event.type === EVENT_TYPES.issuerScriptAppended).data).toMatchObject({ scriptType: 'PIN_UPDATE' });
    await client.sandbox('POST', `/sandbox/cards/${cardId}/contact-authorization`);
    expect((await client.sandbox('POST', `/sandbox/cards/${cardId}/verify-offline-pin`, { pin: PINS.chipOnlyByBlock })).body).toEqual({ matches: true });
    expect((await client.sandbox('POST', `/sandbox/cards/${cardId}/verify-pin`, { pin: PINS.chipOnlyByBlock })).body).toEqual({ matches: false });
  });

  it('fails a PIN update script whose block was made with another card’s PAN: VENDOR_REJECTED with Pismo’s 400, and no script for the chip', async () => {
    const cardId = newCard();
    await client.seedCard(cardId, { accountId: 8675309, pan: PANS.card });
    const key = stack.secrets.pinKeyRing.currentPublicJwk;

    const accepted = await client.submit(`/v1/pismo/cards/${cardId}/offline-pin`, { encryptedPin: await client.encrypt(PINS.chipOnlyOtherCard), encryptedPan: await encryptSecret('pan', PANS.otherCard, key), scriptId: 'issuer-pin-update', accountId: '8675309' });

    const outcome = await client.outcome(accepted.body.requestId);
    expect(outcome.status).toBe('failed');
    expect(outcome.events.find((event: { type: string }) => event.type === EVENT_TYPES.failed).data).toMatchObject({ operation: 'update_offline_pin', reason: 'VENDOR_REJECTED', vendorStatus: 400 });
    expect((await client.sandbox('GET', `/sandbox/cards/${cardId}`)).body).toMatchObject({ pendingScripts: [], pinBlockRefusals: [{ problem: 'PAN_MISMATCH' }] });
  });

  it('reports a PIN update script for another account as failed with the vendor status 404', async () => {
    const cardId = newCard();
    await client.seedCard(cardId, { accountId: 8675309 });

    const accepted = await client.submit(`/v1/pismo/cards/${cardId}/offline-pin`, { encryptedPin: await client.encrypt(PINS.chipOnly), scriptId: 'issuer-pin-update', accountId: '1234' });

    const outcome = await client.outcome(accepted.body.requestId);
    expect(outcome.status).toBe('failed');
    expect(outcome.events.find((event: { type: string }) => event.type === EVENT_TYPES.failed).data).toMatchObject({ operation: 'update_offline_pin', reason: 'CARD_NOT_FOUND', vendorStatus: 404 });
  });

  it('increases password tries until Pismo blocks the card, and reports the block', async () => {
    const cardId = newCard();
    await client.seedCard(cardId, { maxPasswordTries: 3 });

    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const accepted = await client.increaseTries(cardId);
      expect(accepted.status).toBe(202);
      const outcome = await client.outcome(accepted.body.requestId);
      expect(outcome.events.map((event: { type: string }) => event.type)).toContain(EVENT_TYPES.passwordTriesIncreased);
    }

    await waitFor('the card blocked event in the audit trail', async () => {
      const history = await client.auditCard(cardId);
      return history.body.events?.some((event: { type: string }) => event.type === EVENT_TYPES.cardBlocked);
    });
    expect((await client.sandbox('GET', `/sandbox/cards/${cardId}`)).body.status).toBe('BLOCKED');
  });

  it('resets the password tries of a blocked card: succeeded with password_tries.reset, and Pismo unblocks it', async () => {
    const cardId = newCard();
    await client.seedCard(cardId, { status: 'BLOCKED' });

    const accepted = await client.submit(`/v1/pismo/cards/${cardId}/password-tries/reset`, undefined);

    expect(accepted.status).toBe(202);
    const outcome = await client.outcome(accepted.body.requestId);
    expect(outcome.status).toBe('succeeded');
    expect(outcome.events.map((event: { type: string }) => event.type)).toEqual(expect.arrayContaining([EVENT_TYPES.accepted, EVENT_TYPES.passwordTriesReset]));
    expect((await client.sandbox('GET', `/sandbox/cards/${cardId}`)).body).toMatchObject({ status: 'NORMAL', passwordTries: 0 });
  });

  it('reports a tries reset Pismo refuses for the card’s status as failed, with the vendor status 406', async () => {
    const cardId = newCard();
    await client.seedCard(cardId, { status: 'CREATED' });

    const outcome = await client.outcome((await client.submit(`/v1/pismo/cards/${cardId}/password-tries/reset`, {})).body.requestId);

    expect(outcome.status).toBe('failed');
    const failure = outcome.events.find((event: { type: string }) => event.type === EVENT_TYPES.failed);
    expect(failure.data).toMatchObject({ operation: 'reset_password_tries', reason: 'VENDOR_REJECTED', vendorStatus: 406 });
  });

  it('reports an unknown card as a failure carrying the vendor status 404', async () => {
    const accepted = await client.changePin(newCard(), { encryptedPin: await client.encrypt(PINS.unknownCard) });

    const outcome = await client.outcome(accepted.body.requestId);
    expect(outcome.status).toBe('failed');
    const failure = outcome.events.find((event: { type: string }) => event.type === EVENT_TYPES.failed);
    expect(failure.data).toMatchObject({ reason: 'CARD_NOT_FOUND', vendorStatus: 404 });
  });

  it('answers a repeated Idempotency-Key with the first answer and publishes nothing new; refuses the key for another body', async () => {
    const cardId = newCard();
    await client.seedCard(cardId);
    const key = randomUUID();
    const body = { encryptedPin: await client.encrypt(PINS.repeated) };

    const first = await client.changePin(cardId, body, { idempotencyKey: key });
    const second = await client.changePin(cardId, body, { idempotencyKey: key });
    const otherBody = await client.changePin(cardId, { encryptedPin: await client.encrypt(PINS.other) }, { idempotencyKey: key });

    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(otherBody.status).toBe(422);
    expect(otherBody.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    await client.outcome(first.body.requestId);
    const commands = recorder.json<any>(COMMAND_TOPIC).filter((command) => command.cardId === cardId);
    expect(commands).toHaveLength(1);
    expect((await client.sandbox('GET', `/sandbox/cards/${cardId}`)).body.pinChanges).toBe(1);
  });

  it.each([
    ['a weak PIN (sequence)', { encrypted: REJECTED_PINS.weak }, 422, 'PIN_REJECTED'],
    ['a weak PIN (repeated digits)', { encrypted: REJECTED_PINS.repeatedDigits }, 422, 'PIN_REJECTED'],
    ['a PIN with a letter', { payload: { pin: REJECTED_PINS.malformed } }, 400, 'PIN_UNDECRYPTABLE'],
    ['a PIN that is too long', { encrypted: REJECTED_PINS.tooLong }, 422, 'PIN_REJECTED'],
    ['a JWE that is not one', { raw: { encryptedPin: 'not.a.jwe.at.all' } }, 400, 'PIN_UNDECRYPTABLE'],
    ['a clear PIN while clear PINs are disabled', { raw: { pin: '739146' } }, 400, 'PLAINTEXT_PIN_DISABLED'],
    ['an unexpected field', { raw: { encryptedPin: 'a.b.c.d.e', cvv: '123' } }, 400, 'VALIDATION_FAILED'],
  ])('refuses %s with a problem body and publishes nothing', async (_case, input: { encrypted?: string; payload?: unknown; raw?: unknown }, status, code) => {
    const cardId = newCard();
    await client.seedCard(cardId);
    const body = input.raw ?? { encryptedPin: input.payload ? await client.encryptPayload(input.payload) : await client.encrypt(input.encrypted!) };

    const response = await client.changePin(cardId, body);

    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String) });
    // Give a wrongly published command time to show up before concluding there is none.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(recorder.messages.filter((message) => message.key === cardId)).toEqual([]);
  });

  describe('authentication and authorisation', () => {
    it('refuses a missing token with 401 and a problem body', async () => {
      const response = await http('POST', `${stack.urls.intake}/v1/pismo/cards/any/pin`, { body: {} });
      expect(response.status).toBe(401);
      expect(response.body.code).toBe('TOKEN_MISSING');
      expect(response.headers.get('www-authenticate')).toContain('Bearer');
    });

    it('refuses an expired token with 401', async () => {
      const expired = await stack.secrets.token(['pin:write'], { expiresIn: '-5m' });
      const response = await client.changePin(newCard(), {}, { token: expired });
      expect(response.status).toBe(401);
      expect(response.body.code).toBe('TOKEN_EXPIRED');
    });

    it('refuses a token without the write scope with 403', async () => {
      const response = await client.changePin(newCard(), { encryptedPin: await client.encrypt(PINS.other) }, { token: readToken });
      expect(response.status).toBe(403);
      expect(response.body.code).toBe('INSUFFICIENT_SCOPE');
    });

    it('refuses a PIN change or a tries increase without an Idempotency-Key with 400, and publishes nothing', async () => {
      const cardId = newCard();
      await client.seedCard(cardId);
      const writes = [
        [`/v1/pismo/cards/${cardId}/pin`, { encryptedPin: await client.encrypt(PINS.other) }],
        [`/v1/pismo/cards/${cardId}/password-tries/increase`, { blockCardExceedsCounter: true }],
      ] as const;

      for (const [path, body] of writes) {
        const response = await http('POST', `${stack.urls.intake}${path}`, { token: writeToken, body });
        expect(response.status).toBe(400);
        expect(response.body).toMatchObject({ status: 400, code: 'IDEMPOTENCY_KEY_REQUIRED' });
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(recorder.messages.filter((message) => message.key === cardId)).toEqual([]);
    });

    it("shows a request, its audit trail and its card's history to its caller, its tenant and operators only: to others they do not exist", async () => {
      const cardId = newCard();
      await client.seedCard(cardId);
      const acmeBackend = await stack.secrets.token([PIN_WRITE_SCOPE, PIN_READ_SCOPE], { subject: 'acme-backend', tenant: 'acme' });
      const acmeBackOffice = await stack.secrets.token([PIN_READ_SCOPE], { subject: 'acme-back-office', tenant: 'acme' });
      const globex = await stack.secrets.token([PIN_READ_SCOPE], { subject: 'globex-backend', tenant: 'globex' });
      const accepted = await client.changePin(cardId, { encryptedPin: await client.encrypt(PINS.other) }, { token: acmeBackend });
      const { requestId } = accepted.body;
      await waitFor('the request in the audit trail', async () => (await client.auditRequest(requestId)).status === 200 || undefined);

      const views = async (token: string) => [
        (await client.status(requestId, token)).status,
        (await http('GET', `${stack.urls.audit}/v1/requests/${requestId}/events`, { token })).status,
        (await http('GET', `${stack.urls.audit}/v1/cards/${cardId}/events`, { token })).status,
      ];
      for (const token of [acmeBackend, acmeBackOffice, readToken]) expect(await views(token)).toEqual([200, 200, 200]);
      expect(await views(globex)).toEqual([404, 404, 404]);
      const unknown = await client.status(randomUUID(), globex);
      expect((await client.status(requestId, globex)).body.code).toBe(unknown.body.code);
    });

    it('refuses to show a request or an audit trail without the read scope', async () => {
      const requestId = randomUUID();
      expect((await client.status(requestId, writeToken)).status).toBe(403);
      expect((await http('GET', `${stack.urls.audit}/v1/requests/${requestId}/events`, { token: writeToken })).status).toBe(403);
    });
  });

  it('records every event once in the audit trail, newest first per card', async () => {
    const cardId = newCard();
    await client.seedCard(cardId);
    const accepted = await client.changePin(cardId, { encryptedPin: await client.encrypt(PINS.other) });
    await client.outcome(accepted.body.requestId);

    const history = await waitFor('the audit trail of the request', async () => {
      const result = await client.auditRequest(accepted.body.requestId);
      return result.body.status === 'succeeded' ? result.body : undefined;
    });
    const types = history.events.map((event: { type: string }) => event.type);
    expect(types).toEqual([EVENT_TYPES.accepted, EVENT_TYPES.passwordChanged]);
    const card = await client.auditCard(cardId);
    expect(card.body.events.map((event: { type: string }) => event.type)).toEqual([EVENT_TYPES.passwordChanged, EVENT_TYPES.accepted]);
  });

  it('serves the public PIN keys and its OpenAPI document', async () => {
    const keys = await http('GET', `${stack.urls.intake}/v1/pin-keys`);
    expect(keys.body.keys[0]).toEqual(expect.objectContaining({ kty: 'RSA', use: 'enc', alg: 'RSA-OAEP-256', kid: stack.secrets.pinKeyRing.currentKid }));
    expect(keys.body.keys[0]).not.toHaveProperty('d');
    const openApi = await http('GET', `${stack.urls.intake}/openapi.json`);
    expect(Object.keys(openApi.body.paths)).toEqual(expect.arrayContaining(['/v1/pismo/cards/{cardId}/pin', '/v1/requests/{requestId}']));
  });

  it('leaves no PIN it was given in any topic, service log or database row', async () => {
    const everyPin = [...Object.values(PINS), ...Object.values(REJECTED_PINS).filter((pin) => /^\d+$/.test(pin))];
    const panBound = [...Object.values(PANS), iso0Block(PINS.chipOnlyByBlock, PANS.card), iso0Block(PINS.chipOnlyOtherCard, PANS.otherCard)];
    // PINs as short as '1111' turn up by chance inside hex digests and base64 text; PANs and blocks do not.
    const leaked = (text: string) => [...shortPinOccurrences(text, everyPin), ...occurrences(text, panBound)];
    // Let in-flight work finish so that its logs and rows are part of the search.
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const kafkaText = recorder.messages.map((message) => `${message.key} ${message.value} ${JSON.stringify(message.headers)}`).join('\n');
    expect(recorder.messages.length).toBeGreaterThan(20);
    expect(leaked(kafkaText)).toEqual([]);
    const logs = readLogs(stack);
    expect(logs.length).toBeGreaterThan(1000);
    expect(leaked(logs)).toEqual([]);
    const rows = await dumpDatabase(testEnv().databaseUrl);
    expect(rows).toContain('intake_requests');
    expect(leaked(rows)).toEqual([]);
  });
});
