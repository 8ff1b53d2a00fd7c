import { summarizeVendorError } from './vendor-errors';

describe('summarizeVendorError', () => {
  it('keeps the code, title and detail of a JSON error body', () => {
    expect(summarizeVendorError('{"code":"WAL0007","title":"Not Found","detail":"Card not found","trace":"x"}')).toEqual({
      code: 'WAL0007',
      title: 'Not Found',
      detail: 'Card not found',
    });
  });

  it('understands the message/error spelling too', () => {
    expect(summarizeVendorError('{"error":"invalid_request","message":"sync_offline_pin must be a boolean"}')).toEqual({
      title: 'invalid_request',
      detail: 'sync_offline_pin must be a boolean',
    });
  });

  it('reads the first error of a JSON:API error list (Solaris)', () => {
    expect(summarizeVendorError('{"errors":[{"id":"e1","status":404,"code":"model_not_found","title":"Model Not Found","detail":"card 4000123412341234 not found"},{"code":"other"}]}')).toEqual({
      code: 'model_not_found',
      title: 'Model Not Found',
      detail: 'card [digits] not found',
    });
  });

  it('uses a text body as the detail', () => {
    expect(summarizeVendorError('Service Unavailable')).toEqual({ detail: 'Service Unavailable' });
  });

  it('masks digit runs as long as a PIN, in case the vendor echoes the request', () => {
    const summary = summarizeVendorError('{"message":"pin 739164 is not allowed for card 4000123412341234"}');
    expect(JSON.stringify(summary)).not.toMatch(/\d{4,}/);
    expect(summary).toEqual({ detail: 'pin [digits] is not allowed for card [digits]' });
  });

  it('cuts long texts short', () => {
    expect(summarizeVendorError(JSON.stringify({ detail: 'x'.repeat(1000) }))!.detail).toHaveLength(200);
  });

  it('says nothing when the body says nothing', () => {
    expect(summarizeVendorError('')).toBeUndefined();
    expect(summarizeVendorError('{}')).toBeUndefined();
    expect(summarizeVendorError('{"code":{"nested":true}}')).toBeUndefined();
  });
});

describe('a Thales D1 card management system error', () => {
  it('keeps its errorCode and errorMessage', () => {
    expect(summarizeVendorError(JSON.stringify({ errorCode: 'INVALID_PIN_BLOCK', errorMessage: 'The PIN block does not match the card' }))).toEqual({
      code: 'INVALID_PIN_BLOCK',
      detail: 'The PIN block does not match the card',
    });
  });
});
