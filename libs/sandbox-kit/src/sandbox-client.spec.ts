import { leakedDigits } from './sandbox-client';

describe('leakedDigits', () => {
  it('finds a secret standing on its own, in JSON, a URL or a message', () => {
    expect(leakedDigits('{"pin":"4821"}', ['4821'])).toEqual(['4821']);
    expect(leakedDigits('GET /x?pin=4821&y', ['4821'])).toEqual(['4821']);
    expect(leakedDigits('the PIN 582913 was refused', ['582913', '123456'])).toEqual(['582913']);
  });

  it('ignores a secret inside a longer run of digits, a UUID or a random hex id', () => {
    expect(leakedDigits('"card":"14821990"', ['4821'])).toEqual([]);
    expect(leakedDigits('"cid":"a1b2c3d4-4821-4abc-8def-123456789abc"', ['4821'])).toEqual([]);
    expect(leakedDigits('POST /v1/change_requests/0c9e2958ab41f0d3e6c7b8a9d0e1f2a3cchr/confirm', ['2958'])).toEqual([]);
  });

  it('still finds a secret next to a short hex word', () => {
    expect(leakedDigits('"kid":"ab12","pin":"2958"', ['2958'])).toEqual(['2958']);
    expect(leakedDigits('pin=2958cafe', ['2958'])).toEqual(['2958']);
  });
});
