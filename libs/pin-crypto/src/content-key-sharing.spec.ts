import * as nodeCrypto from 'node:crypto';
import { compactDecrypt } from 'jose';
import { generatePinKeyRing, PinKeyRing } from './pin-key-ring';
import { CompactJweError, OpenedContentKeys, openRsaOaepA256Gcm, sealRsaOaepA256Gcm, SharedContentKeys } from './rsa-oaep-a256gcm';

// Every RSA private operation of the module goes through this spy, so the specs can count them.
jest.mock('node:crypto', () => {
  const actual = jest.requireActual<typeof nodeCrypto>('node:crypto');
  return { ...actual, privateDecrypt: jest.fn(actual.privateDecrypt) };
});
const rsaOperations = nodeCrypto.privateDecrypt as jest.MockedFunction<typeof nodeCrypto.privateDecrypt>;

const HEADER = { alg: 'RSA-OAEP-256', enc: 'A256GCM' };

let ring: PinKeyRing;
let otherRing: PinKeyRing;

beforeAll(async () => {
  [ring, otherRing] = await Promise.all([generatePinKeyRing(), generatePinKeyRing()]);
});
beforeEach(() => rsaOperations.mockClear());
afterEach(() => jest.useRealTimers());

const privateKey = (keyRing: PinKeyRing = ring) => keyRing.decryptionKey(keyRing.currentKid)!;
const sealFor = (card: string, shared: SharedContentKeys, keyRing: PinKeyRing = ring) =>
  sealRsaOaepA256Gcm({ ...HEADER, kid: keyRing.currentKid, pinflow_card: card }, Buffer.from(`{"pin":"${card.slice(-4)}"}`), keyRing.currentPublicJwk, shared);
const encryptedKeyOf = (jwe: string) => jwe.split('.')[1];
const ivOf = (jwe: string) => jwe.split('.')[2];

function verdict(jwe: string, opened: OpenedContentKeys, keyRing: PinKeyRing = ring): string {
  try {
    return openRsaOaepA256Gcm(jwe, privateKey(keyRing), opened).toString();
  } catch (error) {
    if (error instanceof CompactJweError) return error.code;
    throw error;
  }
}

describe('JWEs sealed under a shared content key', () => {
  it('share the CEK up to the number of seals allowed, each with its own IV, then move to a fresh one', () => {
    const shared = new SharedContentKeys(3, 60_000);

    const jwes = ['card-0001', 'card-0002', 'card-0003', 'card-0004'].map((card) => sealFor(card, shared));

    expect(new Set(jwes.slice(0, 3).map(encryptedKeyOf)).size).toBe(1);
    expect(encryptedKeyOf(jwes[3])).not.toBe(encryptedKeyOf(jwes[0]));
    expect(new Set(jwes.map(ivOf)).size).toBe(4);
  });

  it('move to a fresh CEK once the current one is older than allowed', () => {
    jest.useFakeTimers();
    const shared = new SharedContentKeys(100, 10_000);
    const first = sealFor('card-0001', shared);

    jest.advanceTimersByTime(10_000);

    expect(encryptedKeyOf(sealFor('card-0002', shared))).not.toBe(encryptedKeyOf(first));
  });

  it('never share a CEK between two recipients', () => {
    const shared = new SharedContentKeys(100, 60_000);

    expect(encryptedKeyOf(sealFor('card-0001', shared, otherRing))).not.toBe(encryptedKeyOf(sealFor('card-0002', shared)));
  });

  it('are each a standard JWE that jose opens', async () => {
    const shared = new SharedContentKeys(100, 60_000);
    const jwes = [sealFor('card-0001', shared), sealFor('card-0002', shared)];

    const opened = await Promise.all(jwes.map(async (jwe) => new TextDecoder().decode((await compactDecrypt(jwe, privateKey())).plaintext)));

    expect(opened).toEqual(['{"pin":"0001"}', '{"pin":"0002"}']);
  });

  it('cannot be spliced into each other: a header, ciphertext or tag from another JWE under the same CEK fails the tag check', () => {
    const shared = new SharedContentKeys(100, 60_000);
    const [first, second] = [sealFor('card-0001', shared), sealFor('card-0002', shared)].map((jwe) => jwe.split('.'));
    const opened = new OpenedContentKeys(8, 60_000);
    expect(verdict(first.join('.'), opened)).toBe('{"pin":"0001"}');

    const spliced = [
      [second[0], ...first.slice(1)],
      [...first.slice(0, 3), second[3], first[4]],
      [...first.slice(0, 4), second[4]],
    ];

    expect(spliced.map((parts) => verdict(parts.join('.'), opened))).toEqual(['DECRYPTION_FAILED', 'DECRYPTION_FAILED', 'DECRYPTION_FAILED']);
  });
});

describe('a recipient that keeps the CEKs it unwrapped', () => {
  it('opens every JWE sharing a CEK with one RSA operation', () => {
    const shared = new SharedContentKeys(100, 60_000);
    const jwes = ['card-0001', 'card-0002', 'card-0003'].map((card) => sealFor(card, shared));
    const opened = new OpenedContentKeys(8, 60_000);

    expect(jwes.map((jwe) => verdict(jwe, opened))).toEqual(['{"pin":"0001"}', '{"pin":"0002"}', '{"pin":"0003"}']);
    expect(rsaOperations).toHaveBeenCalledTimes(1);
  });

  it('keeps only a CEK whose JWE passed the tag check', () => {
    const shared = new SharedContentKeys(100, 60_000);
    const [first, second] = [sealFor('card-0001', shared), sealFor('card-0002', shared)];
    const opened = new OpenedContentKeys(8, 60_000);
    const [header, encryptedKey, iv, ciphertext] = first.split('.');

    expect(verdict([header, encryptedKey, iv, ciphertext, 'A'.repeat(22)].join('.'), opened)).toBe('DECRYPTION_FAILED');
    expect(verdict(second, opened)).toBe('{"pin":"0002"}');
    expect(verdict(first, opened)).toBe('{"pin":"0001"}');
    expect(rsaOperations).toHaveBeenCalledTimes(2);
  });

  it('never opens with a CEK unwrapped by another private key', () => {
    const jwe = sealFor('card-0001', new SharedContentKeys(100, 60_000));
    const opened = new OpenedContentKeys(8, 60_000);
    expect(verdict(jwe, opened)).toBe('{"pin":"0001"}');

    expect(verdict(jwe, opened, otherRing)).toBe('DECRYPTION_FAILED');
  });

  it('forgets a CEK after its time, and the oldest CEK once it holds as many as allowed', () => {
    jest.useFakeTimers();
    const opened = new OpenedContentKeys(2, 60_000);
    const [first, second, third] = [1, 2, 3].map((card) => sealFor(`card-000${card}`, new SharedContentKeys(100, 600_000)));
    for (const jwe of [first, second, third]) verdict(jwe, opened);
    rsaOperations.mockClear();

    verdict(third, opened);
    verdict(first, opened);
    expect(rsaOperations).toHaveBeenCalledTimes(1);

    jest.advanceTimersByTime(60_000);
    verdict(third, opened);
    expect(rsaOperations).toHaveBeenCalledTimes(2);
  });
});
