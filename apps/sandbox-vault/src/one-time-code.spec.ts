import { OneTimeCode } from './one-time-code';

const NOW = new Date('2025-03-01T10:00:00.000Z');
const later = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

describe('OneTimeCode', () => {
  it('is six random digits, valid for its time to live', () => {
    const code = OneTimeCode.issue(300, NOW);
    expect(code.value).toMatch(/^\d{6}$/);
    expect(code.expiresAt).toEqual(later(300));
    expect(new Set(Array.from({ length: 20 }, () => OneTimeCode.issue(300).value)).size).toBeGreaterThan(1);
  });

  it('can be used once: a second use is refused as already used', () => {
    const code = OneTimeCode.issue(300, NOW);
    expect(code.use(code.value, later(10))).toBeUndefined();
    expect(code.used).toBe(true);
    expect(code.use(code.value, later(20))).toBe('CODE_ALREADY_USED');
    expect(code.rejectionOf(code.value, later(20))).toBe('CODE_ALREADY_USED');
  });

  it('expires at the end of its time to live, unused', () => {
    const code = OneTimeCode.issue(300, NOW);
    expect(code.rejectionOf(code.value, later(299))).toBeUndefined();
    expect(code.use(code.value, later(300))).toBe('CODE_EXPIRED');
    expect(code.used).toBe(false);
  });

  it('refuses any other code as invalid, without using itself up', () => {
    const code = OneTimeCode.issue(300, NOW);
    const wrong = code.value === '000000' ? '000001' : '000000';
    expect(code.use(wrong, later(1))).toBe('CODE_INVALID');
    expect(code.use(`${code.value}0`, later(1))).toBe('CODE_INVALID');
    expect(code.used).toBe(false);
    expect(code.use(code.value, later(2))).toBeUndefined();
  });

  it('tells only the holder of the right code that it expired or was used', () => {
    const code = OneTimeCode.issue(1, NOW);
    const wrong = code.value === '000000' ? '000001' : '000000';
    expect(code.rejectionOf(wrong, later(5))).toBe('CODE_INVALID');
  });

  it('serialises to a placeholder, never to the code', () => {
    const code = OneTimeCode.issue(300, NOW);
    expect(JSON.stringify({ code })).toBe('{"code":"[one-time code]"}');
  });
});
