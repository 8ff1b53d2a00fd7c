import { decodeCursor, encodeCursor } from './cursor';

describe('card history cursors', () => {
  it('give back the sequence they were made from, up to the largest bigserial', () => {
    for (const sequence of [1n, 42n, 2n ** 63n - 1n]) expect(decodeCursor(encodeCursor(sequence))).toBe(sequence);
  });

  it('are opaque: neither the number nor its text reads as a cursor', () => {
    expect(encodeCursor(42n)).not.toContain('42');
    expect(decodeCursor('42')).toBeUndefined();
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'djE6NDI='],
    ['another version', Buffer.from('v2:42').toString('base64url')],
    ['zero', Buffer.from('v1:0').toString('base64url')],
    ['a negative sequence', Buffer.from('v1:-1').toString('base64url')],
    ['beyond bigint', Buffer.from('v1:9223372036854775808').toString('base64url')],
    ['trailing text', Buffer.from('v1:42 ').toString('base64url')],
    ['too long', 'A'.repeat(65)],
  ])('reject a cursor that is %s', (_what, cursor) => {
    expect(decodeCursor(cursor)).toBeUndefined();
  });
});
