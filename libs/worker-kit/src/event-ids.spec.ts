import { deterministicEventId } from './event-ids';

describe('deterministicEventId', () => {
  it('is the same for the same name and different for another', () => {
    expect(deterministicEventId('a', 'b')).toBe(deterministicEventId('a', 'b'));
    expect(deterministicEventId('a', 'b')).not.toBe(deterministicEventId('a', 'c'));
  });

  it('does not confuse where one part ends and the next begins', () => {
    expect(deterministicEventId('ab', 'c')).not.toBe(deterministicEventId('a', 'bc'));
  });

  it('is a version 5, RFC 9562 variant UUID', () => {
    expect(deterministicEventId('x')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
