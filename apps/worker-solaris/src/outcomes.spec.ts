import { EVENT_TYPES, parseEvent, SolarisCommand } from '@pinflow/contracts';
import { COMMAND_STATES, VendorCallResult } from '@pinflow/worker-kit';
import { randomUUID } from 'node:crypto';
import { settle, solarisErrorOf } from './outcomes';
import { changePinRequestCommand, confirmChangeRequestCommand, signChangeRequestCommand, solarisCommand as command } from './test-commands';

const answered = (status: number, body: unknown = ''): VendorCallResult => ({
  kind: 'answered',
  status,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

/** One error in Solaris' JSON:API shape. */
const solarisErrors = (status: number | string, code: string, title: string, detail: string, field?: string) => ({
  errors: [{ id: randomUUID(), status, code, title, detail, ...(field ? { source: { field, message: detail } } : {}) }],
});

function failure(result: VendorCallResult) {
  const settlement = settle(command(), result);
  expect(settlement.state).toBe(COMMAND_STATES.failed);
  if (!('event' in settlement)) throw new Error('expected an event');
  expect(settlement.event.type).toBe(EVENT_TYPES.failed);
  return { settlement, data: parseEvent(settlement.event).data };
}

describe('settle', () => {
  it.each([201, 202])('turns Solaris’ %i into password.changed for the request', (status) => {
    const pinChange = command();
    const settlement = settle(pinChange, answered(status, { id: randomUUID(), status: 'COMPLETED' }));

    expect(settlement).toMatchObject({ state: COMMAND_STATES.succeeded, vendorStatus: status });
    if (!('event' in settlement)) throw new Error('expected an event');
    expect(parseEvent(settlement.event)).toMatchObject({
      type: EVENT_TYPES.passwordChanged,
      source: '/pinflow/worker-solaris',
      subject: 'card-1',
      data: { vendor: 'solaris', requestId: pinChange.requestId, commandId: pinChange.commandId },
    });
  });

  it('fails a PIN Solaris’ rules refuse as VENDOR_REJECTED, keeping Solaris’ code, title and the field', () => {
    const { data } = failure(answered(400, solarisErrors('400', 'invalid_pin', 'Invalid PIN', 'pin must not be an ascending or descending sequence', 'pin')));

    expect(data).toMatchObject({
      reason: 'VENDOR_REJECTED',
      vendorStatus: 400,
      operation: 'change_pin',
      vendorError: { code: 'invalid_pin', title: 'Invalid PIN', detail: 'pin must not be an ascending or descending sequence', field: 'pin' },
    });
  });

  it('reads an error whose status is an integer, as Solaris’ 400 field list has it', () => {
    const { data } = failure(answered(400, solarisErrors(400, 'validation_error', 'Validation Error', 'signature is not valid', 'signature')));

    expect(data).toMatchObject({ reason: 'VENDOR_REJECTED', vendorError: { code: 'validation_error', field: 'signature' } });
  });

  it('fails a device Solaris does not allow as VENDOR_REJECTED with unauthorized_action, wrapped or not', () => {
    const flat = { id: randomUUID(), status: '403', code: 'unauthorized_action', title: 'Unauthorized Action', detail: 'Unauthorized action is not allowed.' };
    for (const body of [{ errors: [flat] }, flat]) {
      const { data } = failure(answered(403, body));
      expect(data).toMatchObject({ reason: 'VENDOR_REJECTED', vendorStatus: 403, vendorError: { code: 'unauthorized_action', title: 'Unauthorized Action' } });
      expect(data).not.toHaveProperty('vendorError.field');
    }
  });

  it('fails an unknown card as CARD_NOT_FOUND when Solaris says model_not_found', () => {
    const { data } = failure(answered(404, solarisErrors('404', 'model_not_found', 'Model Not Found', "Couldn't find 'Solaris::CardAccount' for id 'card-1'.")));

    expect(data).toMatchObject({ reason: 'CARD_NOT_FOUND', vendorStatus: 404, vendorError: { code: 'model_not_found' } });
  });

  it('does not blame the card for a 404 that is not Solaris’ (a wrong base URL)', () => {
    expect(failure(answered(404, 'Cannot POST /v2/cards/card-1/pin_update_requests')).data).toMatchObject({ reason: 'VENDOR_REJECTED', vendorStatus: 404 });
  });

  it('fails a 500 that outlasted the retries as VENDOR_UNAVAILABLE, with Solaris’ generic_error', () => {
    const { data } = failure(answered(500, solarisErrors('500', 'generic_error', 'Generic Error', 'There was an error.')));

    expect(data).toMatchObject({ reason: 'VENDOR_UNAVAILABLE', vendorStatus: 500, vendorError: { code: 'generic_error' } });
  });

  it('fails a gateway’s 504 with OUTCOME_UNKNOWN, not VENDOR_UNAVAILABLE: Solaris may have changed the PIN behind it', () => {
    const gatewayTimeout = failure(answered(504, solarisErrors('504', 'gateway_timeout', 'Gateway Timeout', 'The upstream timed out.')));

    expect(gatewayTimeout.data).toMatchObject({ reason: 'OUTCOME_UNKNOWN', vendorStatus: 504, vendorError: { code: 'gateway_timeout' } });
  });

  it('fails with VENDOR_UNAVAILABLE when Solaris could not be reached at all', () => {
    expect(failure({ kind: 'unreachable', cause: 'connection' }).data).toMatchObject({ reason: 'VENDOR_UNAVAILABLE' });
  });

  it('fails with VENDOR_UNAUTHORIZED when Solaris refuses pinflow’s client credentials', () => {
    expect(failure({ kind: 'token_refused', status: 401 }).data).toMatchObject({ reason: 'VENDOR_UNAUTHORIZED', vendorStatus: 401 });
  });
});

describe('solarisErrorOf', () => {
  it('passes on only a source.field that is a field name', () => {
    const blamed = (field: unknown) => solarisErrorOf(JSON.stringify({ errors: [{ code: 'validation_error', source: { field } }] }));

    expect(blamed('key_id')).toEqual({ code: 'validation_error', field: 'key_id' });
    expect(blamed('device.fingerprint')).toEqual({ code: 'validation_error', field: 'device.fingerprint' });
    for (const notAName of ['eyJhbGciOi.J.S.O.N pin 7391', '7391', '', 42]) expect(blamed(notAName)).toEqual({ code: 'validation_error' });
  });

  it('masks digit runs in Solaris’ texts, as for every vendor', () => {
    expect(solarisErrorOf(JSON.stringify(solarisErrors('400', 'invalid_pin', 'Invalid PIN', 'pin 7391 breaks a rule', 'pin')))).toEqual({
      code: 'invalid_pin',
      title: 'Invalid PIN',
      detail: 'pin [digits] breaks a rule',
      field: 'pin',
    });
  });

  it('says nothing about an empty body', () => {
    expect(solarisErrorOf('')).toBeUndefined();
  });
});

describe('settle, for the change request variant', () => {
  const changeRequest = (status: string) => answered(201, { id: 'f3a1c2cchr', status, updated_at: new Date().toISOString(), url: '/v1/change_requests/f3a1c2cchr/confirm' });

  it('ends step one with confirmation_required, naming the change request and how the cardholder gets the TAN', () => {
    const request = changePinRequestCommand();
    const settlement = settle(request, changeRequest('CONFIRMATION_REQUIRED'));
    expect(settlement).toMatchObject({ state: COMMAND_STATES.succeeded, vendorStatus: 201 });
    if (!('event' in settlement)) throw new Error('expected an event');
    expect(parseEvent(settlement.event)).toMatchObject({
      type: EVENT_TYPES.confirmationRequired,
      data: { vendor: 'solaris', commandId: request.commandId, changeRequestId: 'f3a1c2cchr', changeRequestStatus: 'CONFIRMATION_REQUIRED', deliveryMethod: 'mobile_number' },
    });
  });

  it('passes on the string a device is to sign, for device signing', () => {
    const settlement = settle(
      changePinRequestCommand({ deliveryMethod: 'device_signing' }),
      answered(201, { id: 'f3a1c2cchr', status: 'CONFIRMATION_REQUIRED', string_to_sign: 'b4c1e2', url: '/v1/change_requests/f3a1c2cchr/confirm' }),
    );
    if (!('event' in settlement)) throw new Error('expected an event');
    expect(parseEvent(settlement.event).data).toMatchObject({ deliveryMethod: 'device_signing', stringToSign: 'b4c1e2' });
  });

  it.each<[string, SolarisCommand]>([
    ['a change request Solaris completed without confirmation', changePinRequestCommand()],
    ['a change request confirmed with a TAN', confirmChangeRequestCommand()],
    ['a change request confirmed by the device', signChangeRequestCommand()],
  ])('turns %s into password.changed', (_case, request) => {
    const settlement = settle(request, changeRequest('COMPLETED'));
    expect(settlement).toMatchObject({ state: COMMAND_STATES.succeeded });
    if (!('event' in settlement)) throw new Error('expected an event');
    expect(settlement.event.type).toBe(EVENT_TYPES.passwordChanged);
  });

  it('does not take a confirmation answered with a change request still waiting as done: the outcome is unknown', () => {
    const settlement = settle(confirmChangeRequestCommand(), changeRequest('CONFIRMATION_REQUIRED'));
    if (!('event' in settlement)) throw new Error('expected an event');
    expect(parseEvent(settlement.event).data).toMatchObject({ reason: 'OUTCOME_UNKNOWN', operation: 'confirm_change_request' });
  });

  it('fails a wrong TAN and an expired change request with Solaris’ code, and an unknown change request without blaming the card', () => {
    const confirm = confirmChangeRequestCommand();
    const failed = (result: VendorCallResult) => {
      const settlement = settle(confirm, result);
      if (!('event' in settlement)) throw new Error('expected an event');
      return parseEvent(settlement.event).data;
    };
    expect(failed(answered(422, solarisErrors('422', 'invalid_tan', 'Invalid TAN', 'tan is not the TAN sent for this change request', 'tan')))).toMatchObject({
      reason: 'VENDOR_REJECTED',
      vendorStatus: 422,
      vendorError: { code: 'invalid_tan', field: 'tan' },
    });
    expect(failed(answered(410, solarisErrors('410', 'change_request_expired', 'Change Request Expired', 'the change request expired')))).toMatchObject({
      reason: 'VENDOR_REJECTED',
      vendorStatus: 410,
      vendorError: { code: 'change_request_expired' },
    });
    expect(failed(answered(404, solarisErrors('404', 'model_not_found', 'Model Not Found', "Couldn't find 'Solaris::ChangeRequest' for id 'cr-1'.")))).toMatchObject({
      reason: 'VENDOR_REJECTED',
    });
  });

  it.each<[string, SolarisCommand]>([
    ['a TAN', confirmChangeRequestCommand()],
    ['a device signature', signChangeRequestCommand()],
  ])('fails with CONFIRMATION_ATTEMPTS_EXHAUSTED when %s comes after Solaris gave the change request up for too many wrong confirmations', (_case, request) => {
    const settlement = settle(request, answered(410, solarisErrors('410', 'too_many_wrong_confirmations', 'Too Many Wrong Confirmations', 'the change request failed after 3 wrong confirmations')));
    if (!('event' in settlement)) throw new Error('expected an event');
    expect(parseEvent(settlement.event).data).toMatchObject({ reason: 'CONFIRMATION_ATTEMPTS_EXHAUSTED', vendorStatus: 410, vendorError: { code: 'too_many_wrong_confirmations' } });
  });

  it('refuses a change request id that could not sit in a URL path', () => {
    const settlement = settle(changePinRequestCommand(), answered(201, { id: '../cards', status: 'CONFIRMATION_REQUIRED' }));
    if (!('event' in settlement)) throw new Error('expected an event');
    expect(parseEvent(settlement.event).data).toMatchObject({ reason: 'OUTCOME_UNKNOWN' });
  });
});
