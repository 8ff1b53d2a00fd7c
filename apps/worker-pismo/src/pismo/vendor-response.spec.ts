import { correlationIdFromCardUpdated } from './vendor-response';

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
