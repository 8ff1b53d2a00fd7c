import { leakedDigits } from './sandbox-client';

describe('leakedDigits', () => {
  it('finds a secret standing on its own, in JSON, a URL or a message', () => {
    expect(leakedDigits('{"pin":"4821"}', ['4821'])).toEqual(['4821']);
    expect(leakedDigits('GET /x?pin=4821&y', ['4821'])).toEqual(['4821']);
    expect(leakedDigits('the PIN 582913 was refused', ['582913', '123456'])).toEqual(['582913']);
  });

  it('ignores a secret inside a longer run of digits or inside a UUID', () => {
    expect(leakedDigits('"card":"14821990"', ['4821'])).toEqual([]);
    expect(leakedDigits('"cid":"a1b2c3d4-4821-4abc-8def-123456789abc"', ['4821'])).toEqual([]);
  });
});
