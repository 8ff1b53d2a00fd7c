import { generatePinKeyRing, PinKeyRing, sealForCommand } from '@pinflow/pin-crypto';
import type { VendorCallResult } from '@pinflow/worker-kit';
import { SolarisAdapter } from './solaris-adapter';
import type { AuthorizeChangeRequest, ConfirmChangeRequest, SolarisClient } from './solaris/solaris-client';
import { changePinRequestCommand, confirmChangeRequestCommand, signChangeRequestCommand } from './test-commands';

const answered = (status: number, body: unknown): VendorCallResult => ({ kind: 'answered', status, body: JSON.stringify(body) });
const changeRequest = (status: string, code = 201) => answered(code, { id: 'cr-1', status, url: '/v1/change_requests/cr-1' });
const SERVER_ERROR = answered(500, { errors: [{ code: 'generic_error' }] });

/** Solaris as the adapter's client sees it: each endpoint answers from its own queue (the last answer repeats). */
class FakeSolaris {
  readonly calls: { endpoint: string; id?: string; body?: unknown }[] = [];
  readonly answers: Record<string, VendorCallResult[]> = {
    create: [changeRequest('AUTHORIZATION_REQUIRED', 202)],
    authorize: [changeRequest('CONFIRMATION_REQUIRED')],
    confirm: [changeRequest('COMPLETED')],
    show: [changeRequest('CONFIRMATION_REQUIRED', 200)],
  };

  private answer(endpoint: string, id?: string, body?: unknown): VendorCallResult {
    this.calls.push({ endpoint, id, body });
    const queue = this.answers[endpoint];
    return queue.length > 1 ? queue.shift()! : queue[0];
  }

  requestScaPinUpdate = async (cardId: string) => this.answer('create', cardId);
  authorizeChangeRequest = async (id: string, body: AuthorizeChangeRequest) => this.answer('authorize', id, body);
  confirmChangeRequest = async (id: string, body: ConfirmChangeRequest) => this.answer('confirm', id, body);
  changeRequest = async (id: string) => this.answer('show', id);
}

describe('SolarisAdapter, for change requests', () => {
  let keyRing: PinKeyRing;
  let solaris: FakeSolaris;
  let adapter: SolarisAdapter;

  beforeAll(async () => {
    keyRing = await generatePinKeyRing();
  });

  beforeEach(() => {
    solaris = new FakeSolaris();
    adapter = new SolarisAdapter(solaris as unknown as SolarisClient, keyRing);
  });

  it('creates the change request and authorizes it for the person, by SMS', async () => {
    const call = await adapter.prepare(changePinRequestCommand({ personId: 'person-7' }));

    expect(await call(1)).toEqual(changeRequest('CONFIRMATION_REQUIRED'));
    expect(solaris.calls.map(({ endpoint }) => endpoint)).toEqual(['create', 'authorize']);
    expect(solaris.calls[1]).toEqual({ endpoint: 'authorize', id: 'cr-1', body: { person_id: 'person-7', delivery_method: 'mobile_number' } });
  });

  it('authorizes device signing for the device that made the PIN', async () => {
    const call = await adapter.prepare(changePinRequestCommand({ personId: 'person-7', deviceId: 'device-7', deliveryMethod: 'device_signing' }));

    await call(1);

    expect(solaris.calls[1].body).toEqual({ person_id: 'person-7', delivery_method: 'device_signing', device_id: 'device-7' });
  });

  it('confirms with the device’s signature as it came', async () => {
    await (await adapter.prepare(signChangeRequestCommand({ changeRequestId: 'cr-9', personId: 'person-7', signature: 'MEUCIQ==' })))(1);

    expect(solaris.calls).toEqual([{ endpoint: 'confirm', id: 'cr-9', body: { person_id: 'person-7', device_signature: { signature: 'MEUCIQ==' } } }]);
  });

  it('authorizes the change request it already made when an authorization is tried again, rather than making another', async () => {
    solaris.answers.authorize = [SERVER_ERROR, changeRequest('CONFIRMATION_REQUIRED')];
    const call = await adapter.prepare(changePinRequestCommand());

    expect(await call(1)).toEqual(SERVER_ERROR);
    await call(2);

    expect(solaris.calls.map(({ endpoint }) => endpoint)).toEqual(['create', 'authorize', 'authorize']);
  });

  it('stops at a refused creation, and at a change request that needs no authorizing', async () => {
    for (const created of [answered(400, { errors: [{ code: 'invalid_pin' }] }), changeRequest('COMPLETED', 202)]) {
      solaris = new FakeSolaris();
      solaris.answers.create = [created];
      adapter = new SolarisAdapter(solaris as unknown as SolarisClient, keyRing);

      expect(await (await adapter.prepare(changePinRequestCommand()))(1)).toEqual(created);
      expect(solaris.calls.map(({ endpoint }) => endpoint)).toEqual(['create']);
    }
  });

  /** A confirmation whose TAN is sealed to the worker's command key and bound to it, as intake seals it. */
  async function sealedConfirmation(fields: Parameters<typeof confirmChangeRequestCommand>[0] = {}) {
    const command = confirmChangeRequestCommand({ ...fields, encryptedTan: 'a.b.c.d.e' });
    return { ...command, encryptedTan: await sealForCommand('oneTimeCode', '482913', keyRing, command) };
  }

  it('confirms with the TAN decrypted from the worker’s command key, for the person', async () => {
    const command = await sealedConfirmation({ changeRequestId: 'cr-9', personId: 'person-7' });

    await (await adapter.prepare(command))(1);

    expect(solaris.calls).toEqual([{ endpoint: 'confirm', id: 'cr-9', body: { person_id: 'person-7', tan: '482913' } }]);
  });

  it('takes a gateway’s 504 to a confirmation as the timeout it is', async () => {
    solaris.answers.confirm = [answered(504, { errors: [{ code: 'gateway_timeout' }] })];
    const command = await sealedConfirmation();

    expect(await (await adapter.prepare(command))(1)).toEqual({ kind: 'unreachable', cause: 'timeout' });
  });

  it.each([
    ['COMPLETED', 'applied'],
    ['CONFIRMATION_REQUIRED', 'not_applied'],
    ['FAILED', 'unknown'],
  ])('after a lost confirmation, reads the change request: %s means %s', async (status, outcome) => {
    solaris.answers.show = [changeRequest(status, 200)];

    expect(await adapter.checkOutcome(confirmChangeRequestCommand({ changeRequestId: 'cr-9' }))).toMatchObject({ outcome });
    expect(await adapter.checkOutcome(signChangeRequestCommand({ changeRequestId: 'cr-9' }))).toMatchObject({ outcome });
    expect(solaris.calls).toEqual([{ endpoint: 'show', id: 'cr-9' }, { endpoint: 'show', id: 'cr-9' }]);
  });

  it('cannot tell whether a lost change_pin_request went through', async () => {
    expect(await adapter.checkOutcome(changePinRequestCommand())).toEqual({ outcome: 'unknown' });
    expect(solaris.calls).toEqual([]);
  });
});
