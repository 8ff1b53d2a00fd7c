import { leakedDigits, SandboxCallOptions, SandboxClient } from '@pinflow/sandbox-kit';
import { RunningApp, startAppProcess, testEnv, TopicRecorder, waitFor } from '@pinflow/testing';
import { createCipheriv, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

interface PismoEnvelope {
  event_id: string;
  domain: string;
  event_type: string;
  schema_version: number;
  org_id: string;
  cid: string;
  timestamp: string;
  data: Record<string, unknown>;
}

const CLIENT = { clientId: 'pinflow-it', clientSecret: 'it-secret' };
const TOKEN_PATH = '/passport/v1/oauth2/token';
// Every PIN this suite sends; none may appear in the sandbox's log, answers or Kafka messages.
const PINS = {
  first: '582913',
  second: '604729',
  synced: '917354',
  drilledError: '463082',
  drilledTimeout: '371596',
  drilledLost: '295847',
  tooLong: '58291377',
  asNumber: '830615',
  inBrokenJson: '720418',
  hookBrokenJson: '648203',
  pinUpdate: '806251',
  pinUpdateBlock: '473916',
  pinUpdateBlockOtherCard: '620894',
  pinBlock: '739514',
  pinBlockSeven: '3917265',
  pinBlockOtherKey: '264819',
  pinBlockOtherCard: '951736',
};

/** The zone PIN key the suite gives the sandbox (PISMO_ZPK_FILE), one it does not know, and Pismo's published sandbox key. */
const ZPK = { keyId: 'it-zpk', key: '0123456789ABCDEFFEDCBA9876543210' };
const FOREIGN_KEY = 'A1B2C3D4E5F60718293A4B5C6D7E8F90';
const PISMO_SANDBOX_ZPK_ID = '7d14ca2e-1057-11ee-8cee-060f666de710';
const PAN = '4000123412341234';

/** An ISO 9564 format 0 block, built and enciphered here: the suite checks the sandbox's decoding, so it shares none of it. */
function iso0(pin: string, pan: string, key = ZPK.key): string {
  const pinField = `0${pin.length.toString(16)}${pin}`.padEnd(16, 'F');
  const panField = `0000${pan.slice(0, -1).slice(-12)}`;
  const clear = Buffer.from(Array.from({ length: 8 }, (_, index) => parseInt(pinField.slice(index * 2, index * 2 + 2), 16) ^ parseInt(panField.slice(index * 2, index * 2 + 2), 16)));
  const cipher = createCipheriv('des-ede-ecb', Buffer.from(key, 'hex'), null).setAutoPadding(false);
  return Buffer.concat([cipher.update(clear), cipher.final()]).toString('hex').toUpperCase();
}

/**
 * The sandbox as its own process, over real HTTP, publishing to the real broker: Pismo's two PIN
 * endpoints, its events, and the drills and hooks tests rely on.
 */
describe('the Pismo sandbox', () => {
  const topic = `it.pismo.events.${randomUUID()}`;
  let service: RunningApp;
  let recorder: TopicRecorder;
  let sandbox: SandboxClient;

  const call = (method: string, route: string, options?: SandboxCallOptions) => sandbox.call(method, route, options);
  const newToken = () => sandbox.fetchToken(TOKEN_PATH, CLIENT);

  async function seed(card: Record<string, unknown> = {}): Promise<string> {
    const cardId = `it-${randomUUID().slice(0, 8)}`;
    const seeded = await call('PUT', `/sandbox/cards/${cardId}`, { body: card });
    expect(seeded.status).toBe(200);
    return cardId;
  }

  const changePin = (cardId: string, body: unknown, cid = randomUUID()) => call('PUT', `/pcicards/v2/pcicards/card/${cardId}`, { body, headers: { 'x-cid': cid } });
  const increaseTries = (cardId: string, block = true, cid = randomUUID()) =>
    call('POST', `/wallet/v2/cards/${cardId}/password-tries/increase`, { body: { block_card_exceeds_counter: block }, headers: { 'x-cid': cid } });
  const resetTries = (cardId: string, cid = randomUUID()) => call('POST', `/wallet/v2/cards/${cardId}/password-tries/reset`, { headers: { 'x-cid': cid } });
  const cardState = async (cardId: string) => (await call('GET', `/sandbox/cards/${cardId}`)).body;
  const verifies = async (cardId: string, pin: string) => (await call('POST', `/sandbox/cards/${cardId}/verify-pin`, { body: { pin } })).body.matches;
  const eventsOf = (cardId: string) => recorder.json<PismoEnvelope>(topic).filter((event) => String(event.data.card_id) === cardId);
  const eventFor = (cid: string, type: string) => recorder.waitForJson<PismoEnvelope>(topic, (event) => event.cid === cid && event.event_type === type);
  const setKnobs = (knobs: Record<string, unknown>) => sandbox.setKnobs(knobs);

  beforeAll(async () => {
    const { kafkaBrokers } = testEnv();
    const zpkFile = path.join(mkdtempSync(path.join(tmpdir(), 'sandbox-pismo-it-')), 'zpk.json');
    writeFileSync(zpkFile, JSON.stringify(ZPK));
    service = await startAppProcess('sandbox-pismo', {
      KAFKA_BROKERS: kafkaBrokers,
      PISMO_ZPK_FILE: zpkFile,
      PISMO_EVENTS_TOPIC: topic,
      PISMO_EVENTS_PARTITIONS: '2',
      SANDBOX_CLIENT_ID: CLIENT.clientId,
      SANDBOX_CLIENT_SECRET: CLIENT.clientSecret,
      SANDBOX_ORG_ID: 'TN-it',
    });
    sandbox = await SandboxClient.signedIn(service.baseUrl, TOKEN_PATH, CLIENT);
    recorder = await new TopicRecorder(kafkaBrokers, [topic]).start();
  }, 90_000);

  afterAll(async () => {
    await service?.stop();
    await recorder?.stop();
  }, 60_000);

  describe('passport', () => {
    it('issues bearer tokens for client credentials sent as a form, as JSON or with HTTP Basic', async () => {
      const asJson = await call('POST', TOKEN_PATH, { token: null, body: { grant_type: 'client_credentials', client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret } });
      const asBasic = await call('POST', TOKEN_PATH, {
        token: null,
        body: { grant_type: 'client_credentials' },
        headers: { authorization: `Basic ${Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString('base64')}` },
      });

      expect(asJson.status).toBe(200);
      expect(asJson.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 300 });
      expect(asBasic.status).toBe(200);
      expect(asBasic.body.access_token).not.toEqual(asJson.body.access_token);
      const seeded = await seed();
      expect((await call('POST', `/wallet/v2/cards/${seeded}/password-tries/reset`, { token: asBasic.body.access_token })).status).toBe(200);
    });

    it('refuses wrong credentials with invalid_client and other grants with unsupported_grant_type', async () => {
      const wrongSecret = await call('POST', TOKEN_PATH, { token: null, body: { grant_type: 'client_credentials', client_id: CLIENT.clientId, client_secret: 'guess' } });
      const otherGrant = await call('POST', TOKEN_PATH, { token: null, body: { grant_type: 'password', client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret } });
      expect([wrongSecret.status, wrongSecret.body]).toEqual([401, { error: 'invalid_client' }]);
      expect([otherGrant.status, otherGrant.body]).toEqual([400, { error: 'unsupported_grant_type' }]);
    });

    it('answers 401 Unauthorized to card calls with no token, an unknown one, an expired one or a revoked one', async () => {
      const cardId = await seed();
      const unauthorized = { status: 401, body: { message: 'Unauthorized' } };
      const attempt = async (bearer: string | null) => {
        const answer = await call('POST', `/wallet/v2/cards/${cardId}/password-tries/reset`, { token: bearer });
        return { status: answer.status, body: answer.body };
      };

      expect(await attempt(null)).toEqual(unauthorized);
      expect(await attempt('made-up')).toEqual(unauthorized);
      await setKnobs({ tokenTtlSeconds: 1 });
      const shortLived = await newToken();
      await setKnobs({ tokenTtlSeconds: 300 });
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect(await attempt(shortLived)).toEqual(unauthorized);
      expect((await call('DELETE', '/sandbox/tokens')).status).toBe(204);
      expect(await attempt(sandbox.bearer!)).toEqual(unauthorized);

      sandbox.bearer = await newToken();
      expect((await attempt(sandbox.bearer)).status).toBe(200);
    });
  });

  describe('change card password', () => {
    it("answers 201 with the JSON string naming the cid, keeps only the new PIN's hash, restarts the tries and emits update_password-1", async () => {
      const cardId = await seed({ programId: 42, accountId: 7001, customerId: 8001 });
      await increaseTries(cardId, false);
      const cid = randomUUID();

      const answer = await changePin(cardId, { pin: PINS.first }, cid);

      expect(answer.status).toBe(201);
      expect(answer.contentType).toMatch(/^application\/json/);
      expect(answer.text).toBe(JSON.stringify(`[${cid}] Card updated`));
      expect(await verifies(cardId, PINS.first)).toBe(true);
      expect(await verifies(cardId, PINS.second)).toBe(false);
      expect(await cardState(cardId)).toMatchObject({ status: 'NORMAL', passwordTries: 0, pinChanges: 1, pinChangedAt: expect.any(String), pendingScripts: [] });
      const event = await eventFor(cid, 'update_password-1');
      expect(event).toEqual({
        event_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        domain: 'cards',
        event_type: 'update_password-1',
        schema_version: 1,
        org_id: 'TN-it',
        cid,
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        data: {
          account_id: 7001,
          card_id: cardId,
          card_name: `Sandbox card ${cardId}`,
          card_printed_name: 'SANDBOX CARDHOLDER',
          card_status: 'NORMAL',
          card_type: 'PLASTIC',
          expiration_date: expect.any(String),
          issuing_date: expect.any(String),
          program_id: 42,
          status: 'SUCCESS',
        },
      });
      expect(recorder.messages.find((message) => message.value.includes(event.event_id))?.key).toBe(cardId);
    });

    it('makes up a cid when the caller sends none, and uses it in the answer and the event alike', async () => {
      const cardId = await seed();
      const answer = await call('PUT', `/pcicards/v2/pcicards/card/${cardId}`, { body: { pin: PINS.second } });
      const cid = /^\[(.+)\] Card updated$/.exec(JSON.parse(answer.text))?.[1];
      expect(cid).toMatch(/^[0-9a-f-]{36}$/);
      await eventFor(cid!, 'update_password-1');
    });

    it('answers 404 for a card nobody seeded and 403 for a canceled card, and changes nothing', async () => {
      const unknown = await changePin('it-never-seeded', { pin: PINS.second });
      const canceledCard = await seed({ status: 'CANCELED' });
      const canceled = await changePin(canceledCard, { pin: PINS.second });

      expect([unknown.status, unknown.body]).toEqual([404, { message: 'Card not found' }]);
      expect([canceled.status, canceled.body]).toEqual([403, { message: 'Cannot change the password of a card in status CANCELED' }]);
      expect(await cardState(canceledCard)).toMatchObject({ pinChanges: 0 });
      expect((await call('GET', '/sandbox/cards/it-never-seeded')).status).toBe(404);
    });

    it.each([
      ['a PIN longer than 6 digits', { body: { pin: PINS.tooLong } }, PINS.tooLong],
      ['a PIN sent as a number', { body: { pin: Number(PINS.asNumber) } }, PINS.asNumber],
      ['a body that is not JSON', { raw: `{"pin": x${PINS.inBrokenJson}}` }, PINS.inBrokenJson],
      ['a body without a PIN', { body: { sync_offline_pin: true } }, undefined],
    ])('refuses %s with 400 and a message that never repeats the PIN', async (_case, request, pin) => {
      const cardId = await seed();
      const answer = await call('PUT', `/pcicards/v2/pcicards/card/${cardId}`, request);

      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({ message: expect.any(String) });
      if (pin) expect(answer.text).not.toContain(pin);
      expect(await cardState(cardId)).toMatchObject({ pinChanges: 0 });
    });

    it('with sync_offline_pin creates a SYNC_PIN script, and the next contact authorization applies it', async () => {
      const cardId = await seed();
      const cid = randomUUID();

      expect((await changePin(cardId, { pin: PINS.synced, sync_offline_pin: true }, cid)).status).toBe(201);
      const created = await eventFor(cid, 'issuer_script-1');
      expect((await cardState(cardId)).pendingScripts).toEqual([expect.objectContaining({ type: 'SYNC_PIN', appliedAt: null })]);
      const authorization = await call('POST', `/sandbox/cards/${cardId}/contact-authorization`, { headers: { 'x-cid': 'chip-auth-1' } });
      const applied = await eventFor('chip-auth-1', 'issuer_script-1');

      expect(created.data).toEqual({
        account_id: expect.any(Number),
        card_id: cardId,
        customer_id: expect.any(Number),
        program_id: 1,
        card_script_id: expect.any(Number),
        script_event_type: 'script_created',
        script_type: 'SYNC_PIN',
      });
      expect(applied.data).toEqual({ ...created.data, script_event_type: 'script_applied' });
      expect(authorization.body.appliedScripts).toEqual([expect.objectContaining({ id: created.data.card_script_id, appliedAt: expect.any(String) })]);
      expect(await cardState(cardId)).toMatchObject({ pendingScripts: [], appliedScripts: [expect.objectContaining({ type: 'SYNC_PIN' })] });
      expect(eventsOf(cardId).map((event) => [event.event_type, event.data.script_event_type])).toEqual([
        ['update_password-1', undefined],
        ['issuer_script-1', 'script_created'],
        ['issuer_script-1', 'script_applied'],
      ]);
    });

    it('syncs the offline PIN on its own: 204, a SYNC_PIN script_created, and the chip takes the online PIN when applied', async () => {
      const cardId = await seed();
      expect((await changePin(cardId, { pin: PINS.first })).status).toBe(201);
      const cid = randomUUID();

      const synced = await call('POST', `/pcicards/v1/pcicards/${cardId}/scripts/sync-offline-pin`, { headers: { 'x-cid': cid } });

      expect([synced.status, synced.text]).toEqual([204, '']);
      expect((await eventFor(cid, 'issuer_script-1')).data).toMatchObject({ script_type: 'SYNC_PIN', script_event_type: 'script_created' });
      await call('POST', `/sandbox/cards/${cardId}/contact-authorization`);
      expect((await call('POST', `/sandbox/cards/${cardId}/verify-offline-pin`, { body: { pin: PINS.first } })).body).toEqual({ matches: true });
      expect((await call('GET', '/sandbox/applied')).body[cid]).toMatchObject({ offlinePinSyncs: 1 });
    });

    it('appends a PIN update script for the card’s account: 200 with the card script, and the chip takes its PIN when applied', async () => {
      const cardId = await seed({ accountId: 8675309 });
      const cid = randomUUID();

      const appended = await call('POST', `/pcicards/v1/pcicards/${cardId}/scripts/pin-update`, {
        body: { script_id: 'issuer-script-1', pin: PINS.pinUpdate },
        headers: { 'x-cid': cid, 'x-account-id': '8675309' },
      });

      expect([appended.status, appended.body]).toEqual([
        200,
        { card_script_id: expect.any(String), org_id: 'TN-it', card_id: cardId, account_id: 8675309, script_id: 'issuer-script-1', created_at: expect.any(String), applied: false },
      ]);
      const created = await eventFor(cid, 'issuer_script-1');
      expect(created.data).toMatchObject({ script_type: 'PIN_UPDATE', script_event_type: 'script_created', card_script_id: Number(appended.body.card_script_id) });
      expect(await verifies(cardId, PINS.pinUpdate)).toBe(false);
      await call('POST', `/sandbox/cards/${cardId}/contact-authorization`);
      expect((await call('POST', `/sandbox/cards/${cardId}/verify-offline-pin`, { body: { pin: PINS.pinUpdate } })).body).toEqual({ matches: true });
    });

    it('refuses a PIN update script without the account header (400), for another account (404), or without a script id (400)', async () => {
      const cardId = await seed({ accountId: 8675309 });
      const pinUpdate = (body: unknown, headers: Record<string, string>) => call('POST', `/pcicards/v1/pcicards/${cardId}/scripts/pin-update`, { body, headers });

      expect((await pinUpdate({ script_id: 's', pin: PINS.pinUpdate }, {})).status).toBe(400);
      expect((await pinUpdate({ script_id: 's', pin: PINS.pinUpdate }, { 'x-account-id': '1234' })).status).toBe(404);
      const noScript = await pinUpdate({ pin: PINS.pinUpdate }, { 'x-account-id': '8675309' });
      expect([noScript.status, noScript.body]).toEqual([400, { message: 'script_id must be a string' }]);
      expect((await cardState(cardId)).pendingScripts).toEqual([]);
    });

    it('appends a PIN update script from a PIN block under a key it holds, read with the card’s PAN as the PIN block endpoint reads it', async () => {
      const cardId = await seed({ accountId: 8675309, pan: PAN });
      const pinUpdate = (body: unknown) => call('POST', `/pcicards/v1/pcicards/${cardId}/scripts/pin-update`, { body, headers: { 'x-cid': randomUUID(), 'x-account-id': '8675309' } });

      expect((await pinUpdate({ script_id: 's', pin_block: iso0(PINS.pinUpdateBlock, PAN), key_id: ZPK.keyId })).status).toBe(200);
      await call('POST', `/sandbox/cards/${cardId}/contact-authorization`);

      expect((await call('POST', `/sandbox/cards/${cardId}/verify-offline-pin`, { body: { pin: PINS.pinUpdateBlock } })).body).toEqual({ matches: true });
      expect(await verifies(cardId, PINS.pinUpdateBlock)).toBe(false);
    });

    it('refuses a PIN update script whose block sets no PIN (400), under a key it does not hold (403), or with a block and a PIN or without key_id (400), appending nothing', async () => {
      const cardId = await seed({ accountId: 8675309, pan: PAN });
      const pinUpdate = (body: unknown) => call('POST', `/pcicards/v1/pcicards/${cardId}/scripts/pin-update`, { body, headers: { 'x-cid': randomUUID(), 'x-account-id': '8675309' } });
      const otherCard = iso0(PINS.pinUpdateBlockOtherCard, '4000123412349999');

      const refused = await pinUpdate({ script_id: 's', pin_block: otherCard, key_id: ZPK.keyId });
      expect([refused.status, refused.body]).toEqual([400, { message: 'The PIN block does not hold a PIN of 4 to 6 digits for this card under this key' }]);
      expect((await pinUpdate({ script_id: 's', pin_block: iso0(PINS.pinUpdateBlock, PAN), key_id: 'a-key-pismo-never-gave' })).status).toBe(403);
      expect((await pinUpdate({ script_id: 's', pin_block: iso0(PINS.pinUpdateBlock, PAN), key_id: ZPK.keyId, pin: PINS.pinUpdateBlock })).status).toBe(400);
      expect((await pinUpdate({ script_id: 's', pin_block: iso0(PINS.pinUpdateBlock, PAN) })).status).toBe(400);

      expect(await cardState(cardId)).toMatchObject({ pendingScripts: [], pinBlockRefusals: [{ at: expect.any(String), problem: 'PAN_MISMATCH' }] });
    });
  });

  describe('PIN from a PIN block', () => {
    const updateFromBlock = (cardId: string, body: unknown, cid = randomUUID()) => call('PUT', `/pcicards/v1/pcicards/${cardId}/pinblock`, { body, headers: { 'x-cid': cid } });

    it('reads a format 0 block under a key it holds for the card’s PAN: 204, the PIN set, update_password-1 SUCCESS', async () => {
      const cardId = await seed({ pan: PAN });
      await increaseTries(cardId, false);
      const cid = randomUUID();

      const answer = await updateFromBlock(cardId, { pinblock: iso0(PINS.pinBlock, PAN), key_id: ZPK.keyId, sync_offline_pin: true }, cid);

      expect([answer.status, answer.text]).toEqual([204, '']);
      expect((await eventFor(cid, 'update_password-1')).data.status).toBe('SUCCESS');
      expect(await verifies(cardId, PINS.pinBlock)).toBe(true);
      expect(await cardState(cardId)).toMatchObject({ passwordTries: 0, pinChanges: 1, pendingScripts: [{ type: 'SYNC_PIN' }], pinBlockRefusals: [] });
      expect((await call('GET', '/sandbox/applied')).body[cid]).toMatchObject({ pinBlockUpdates: 1, pinChanges: 0 });
    });

    it("reads Pismo's tutorial block under Pismo's published sandbox key", async () => {
      const cardId = await seed({ pan: '1234560057855917' });
      expect((await updateFromBlock(cardId, { pinblock: 'D04BCCEE7133CF01', key_id: PISMO_SANDBOX_ZPK_ID })).status).toBe(204);
      expect(await verifies(cardId, '4986')).toBe(true);
    });

    it('takes a block it cannot read (another key, another card, a 7-digit PIN) with 204 and update_password-1 FAILURE, and keeps the PIN', async () => {
      const cardId = await seed({ pan: PAN });
      await changePin(cardId, { pin: PINS.first });
      const cases = [
        { pinblock: iso0(PINS.pinBlockOtherKey, PAN, FOREIGN_KEY), problem: 'NOT_FORMAT_0' },
        { pinblock: iso0(PINS.pinBlockOtherCard, '4000123412349999'), problem: 'PAN_MISMATCH' },
        { pinblock: iso0(PINS.pinBlockSeven, PAN), problem: 'PIN_LENGTH' },
      ];
      for (const { pinblock } of cases) {
        const cid = randomUUID();
        expect((await updateFromBlock(cardId, { pinblock, key_id: ZPK.keyId }, cid)).status).toBe(204);
        expect((await eventFor(cid, 'update_password-1')).data.status).toBe('FAILURE');
      }

      expect(await verifies(cardId, PINS.first)).toBe(true);
      expect((await cardState(cardId)).pinBlockRefusals.map((refusal: { problem: string }) => refusal.problem)).toEqual(cases.map((refused) => refused.problem));
    });

    it('answers 403 for a key id it does not hold, 404 for an unknown card, 403 for a canceled one and 400 for a block that is not 16 hex digits', async () => {
      const cardId = await seed({ pan: PAN });
      const canceled = await seed({ pan: PAN, status: 'CANCELED' });
      const block = iso0(PINS.pinBlock, PAN);

      expect((await updateFromBlock(cardId, { pinblock: block, key_id: 'not-a-key-we-hold' })).status).toBe(403);
      expect((await updateFromBlock('never-seeded', { pinblock: block, key_id: ZPK.keyId })).status).toBe(404);
      expect((await updateFromBlock(canceled, { pinblock: block, key_id: ZPK.keyId })).status).toBe(403);
      const malformed = await updateFromBlock(cardId, { pinblock: 'XYZ', key_id: ZPK.keyId });
      expect([malformed.status, malformed.body]).toEqual([400, { message: 'pinblock must be 16 hex digits' }]);
      expect((await cardState(cardId)).pinChanges).toBe(0);
    });
  });

  describe('password tries', () => {
    it("blocks a NORMAL card when the counter reaches its program's maximum, emitting update-1 once, and a reset unblocks it", async () => {
      expect((await call('PUT', '/sandbox/programs/77', { body: { maxPasswordTries: 2 } })).status).toBe(200);
      const cardId = await seed({ programId: 77 });
      const blockingCid = randomUUID();
      const resetCid = randomUUID();

      const first = await increaseTries(cardId);
      expect([first.status, first.body]).toEqual([200, { success: 'Incremented password tries counter' }]);
      expect((await cardState(cardId)).status).toBe('NORMAL');
      expect((await increaseTries(cardId, true, blockingCid)).status).toBe(200);
      expect((await cardState(cardId)).status).toBe('BLOCKED');
      const blocked = await eventFor(blockingCid, 'update-1');
      expect(blocked.data).toMatchObject({ card_id: cardId, card_status: 'BLOCKED', card_previous_status: 'NORMAL', program_id: 77, account_id: expect.any(Number) });
      // Already blocked: still counted, no second block event.
      expect((await increaseTries(cardId)).status).toBe(200);
      expect(await cardState(cardId)).toMatchObject({ status: 'BLOCKED', passwordTries: 3 });

      const reset = await resetTries(cardId, resetCid);
      expect([reset.status, reset.body]).toEqual([200, { success: true }]);
      const unblocked = await eventFor(resetCid, 'update-1');

      expect(unblocked.data).toMatchObject({ card_status: 'NORMAL', card_previous_status: 'BLOCKED' });
      expect(await cardState(cardId)).toMatchObject({ status: 'NORMAL', passwordTries: 0 });
      // One card's events share a partition, so all earlier ones arrived before the reset's.
      expect(eventsOf(cardId).map((event) => event.data.card_status)).toEqual(['BLOCKED', 'NORMAL']);
    });

    it('only counts for a CREATED card, whose tries cannot be reset (406)', async () => {
      const cardId = await seed({ status: 'CREATED', maxPasswordTries: 1 });
      for (let i = 0; i < 3; i += 1) expect((await increaseTries(cardId)).status).toBe(200);
      expect(await cardState(cardId)).toMatchObject({ status: 'CREATED', passwordTries: 3 });
      const reset = await resetTries(cardId);
      expect([reset.status, reset.body]).toEqual([406, { message: 'Cannot reset the password tries of a card in status CREATED' }]);
    });

    it('answers 403 for a card nobody seeded (Pismo declares no 404 on its wallet host) and 400 for a body without the flag', async () => {
      const cardId = await seed();
      const forbidden = { message: "You don't have permission to access this resource" };
      const [increased, reset] = [await increaseTries('it-never-seeded'), await resetTries('it-never-seeded')];
      expect([increased.status, increased.body, reset.status, reset.body]).toEqual([403, forbidden, 403, forbidden]);
      const noFlag = await call('POST', `/wallet/v2/cards/${cardId}/password-tries/increase`, { body: {} });
      expect([noFlag.status, noFlag.body]).toEqual([400, { message: 'block_card_exceeds_counter must be a boolean' }]);
      expect((await cardState(cardId)).passwordTries).toBe(0);
    });
  });

  describe('drills', () => {
    afterEach(async () => {
      await setKnobs({ latencyMs: 0, errorRate: 0, timeoutRate: 0, timeoutApplies: true, down: false });
    });

    it('at errorRate 1 answers 500 and applies nothing', async () => {
      const cardId = await seed();
      const cid = randomUUID();
      await setKnobs({ errorRate: 1 });

      const answer = await changePin(cardId, { pin: PINS.drilledError }, cid);

      expect([answer.status, answer.body]).toEqual([500, { message: 'Internal server error' }]);
      expect(await cardState(cardId)).toMatchObject({ pinChanges: 0 });
      expect(await verifies(cardId, PINS.drilledError)).toBe(false);
      expect((await call('GET', '/sandbox/applied')).body[cid]).toBeUndefined();
    });

    it('at timeoutRate 1 holds the call, answers 504, and applies it only when timeoutApplies says so', async () => {
      const cardId = await seed();
      const appliedCid = randomUUID();
      const lostCid = randomUUID();
      await setKnobs({ timeoutRate: 1, timeoutHoldMs: 300, timeoutApplies: true });

      const started = Date.now();
      const applied = await changePin(cardId, { pin: PINS.drilledTimeout }, appliedCid);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      await setKnobs({ timeoutApplies: false });
      const lost = await changePin(cardId, { pin: PINS.drilledLost }, lostCid);

      expect([applied.status, applied.body]).toEqual([504, { message: 'Endpoint request timed out' }]);
      expect(lost.status).toBe(504);
      const counts = (await call('GET', '/sandbox/applied')).body;
      expect(counts[appliedCid]).toEqual({ pinChanges: 1, triesIncreases: 0, triesResets: 0, offlinePinSyncs: 0, pinUpdateScripts: 0, pinBlockUpdates: 0 });
      expect(counts[lostCid]).toBeUndefined();
      expect(await verifies(cardId, PINS.drilledTimeout)).toBe(true);
      await eventFor(appliedCid, 'update_password-1');
    });

    it('when down, answers every vendor call 503, the token endpoint included; latency delays every call', async () => {
      const cardId = await seed();
      await setKnobs({ down: true });
      expect((await increaseTries(cardId)).status).toBe(503);
      expect((await call('POST', TOKEN_PATH, { token: null, body: {} })).status).toBe(503);
      expect((await cardState(cardId)).passwordTries).toBe(0);

      await setKnobs({ down: false, latencyMs: 250 });
      const started = Date.now();
      expect((await increaseTries(cardId)).status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    });

    it('refuses knobs out of range with a problem body', async () => {
      const answer = await setKnobs({ errorRate: 2 });
      expect(answer.status).toBe(400);
      expect(answer.contentType).toMatch(/^application\/problem\+json/);
      expect((await call('GET', '/sandbox/knobs')).body.errorRate).toBe(0);
    });
  });

  describe('hooks', () => {
    it('refuse a body that is not JSON with a problem body that never repeats it', async () => {
      const cardId = await seed();
      const answer = await call('POST', `/sandbox/cards/${cardId}/verify-pin`, { raw: `{"pin": x${PINS.hookBrokenJson}}` });
      expect(answer.status).toBe(400);
      expect(answer.contentType).toMatch(/^application\/problem\+json/);
      expect(answer.body).toMatchObject({ status: 400, code: 'MALFORMED_JSON' });
      expect(answer.text).not.toContain(PINS.hookBrokenJson);
    });

    it('refuse to seed a card with fields they do not know', async () => {
      const answer = await call('PUT', '/sandbox/cards/it-typo', { body: { max_password_tries: 2 } });
      expect(answer.status).toBe(400);
      expect(answer.body.code).toBe('VALIDATION_FAILED');
      expect((await call('GET', '/sandbox/cards/it-typo')).status).toBe(404);
    });
  });

  describe('records', () => {
    it('lists every vendor call with its cid, card and status, and counts what was applied per cid', async () => {
      const cardId = await seed();
      const cid = randomUUID();
      await changePin(cardId, { pin: PINS.second }, cid);
      await changePin(cardId, { pin: PINS.second }, cid);

      const calls = (await call('GET', '/sandbox/calls')).body as { cid: string }[];
      const applied = (await call('GET', '/sandbox/applied')).body;

      expect(calls.filter((recorded) => recorded.cid === cid)).toEqual([
        { at: expect.any(String), method: 'PUT', path: `/pcicards/v2/pcicards/card/${cardId}`, cardId, cid, status: 201 },
        { at: expect.any(String), method: 'PUT', path: `/pcicards/v2/pcicards/card/${cardId}`, cardId, cid, status: 201 },
      ]);
      expect(applied[cid]).toEqual({ pinChanges: 2, triesIncreases: 0, triesResets: 0, offlinePinSyncs: 0, pinUpdateScripts: 0, pinBlockUpdates: 0 });
    });

    it('forgets cards, calls, knobs and tokens on reset', async () => {
      const cardId = await seed();
      await setKnobs({ latencyMs: 5 });

      expect((await call('POST', '/sandbox/reset')).status).toBe(204);

      expect((await call('GET', `/sandbox/cards/${cardId}`)).status).toBe(404);
      expect((await call('GET', '/sandbox/calls')).body).toEqual([]);
      expect((await call('GET', '/sandbox/applied')).body).toEqual({});
      expect((await call('GET', '/sandbox/knobs')).body.latencyMs).toBe(0);
      expect((await increaseTries(cardId)).status).toBe(401);
      sandbox.bearer = await newToken();
    });
  });

  it('keeps every PIN out of its log, its records and its Kafka messages', async () => {
    const standalone = (text: string) => leakedDigits(text, Object.values(PINS));
    const log = await waitFor('the log to hold the requests', async () => {
      const text = readFileSync(service.logFile, 'utf8');
      return text.includes('/pcicards/v2/pcicards/card/') && text;
    });

    expect(standalone(log)).toEqual([]);
    expect(standalone(recorder.messages.map((message) => `${message.key} ${message.value} ${JSON.stringify(message.headers)}`).join('\n'))).toEqual([]);
    expect(recorder.messages.length).toBeGreaterThan(5);
  });
});
