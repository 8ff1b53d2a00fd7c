import { correlationIdFromCardUpdated, summarizeVendorError } from './vendor-response';

describe('correlationIdFromCardUpdated', () => {
  it('reads the cid out of the JSON string Pismo answers a password change with', () => {
    expect(correlationIdFromCardUpdated('"[8f14e45f-ceea-467a-9af7-4a1b2c3d4e5f] Card updated"')).toBe('8f14e45f-ceea-467a-9af7-4a1b2c3d4e5f');
  });

  it('accepts the same text without JSON quotes', () => {
    expect(correlationIdFromCardUpdated('[abc-123] Card updated')).toBe('abc-123');
  });

  it.each([
    ['an empty body', ''],
    ['a body without brackets', '"Card updated"'],
    ['empty brackets', '"[] Card updated"'],
    ['a JSON object', '{"cid":"abc"}'],
  ])('finds no cid in %s', (_case, body) => {
    expect(correlationIdFromCardUpdated(body)).toBeUndefined();
  });
});

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
