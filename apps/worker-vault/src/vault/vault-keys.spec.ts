import type { VendorCallResult } from '@pinflow/worker-kit';
import { generateKeyPairSync } from 'node:crypto';
import { readVaultKey, VaultKey, VaultKeys } from './vault-keys';

const answered = (status: number, body: unknown): VendorCallResult => ({ kind: 'answered', status, body: typeof body === 'string' ? body : JSON.stringify(body) });
const spki = (type: 'rsa' | 'ec') =>
  (type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' })).publicKey
    .export({ type: 'spki', format: 'der' })
    .toString('base64');
const RSA_KEYS = [spki('rsa'), spki('rsa')];
const keyAnswer = (index: number) => answered(200, { id: `key-${index}`, publicKey: RSA_KEYS[index % 2] });
const OK = answered(200, { result: 'ok' });
const KEY_EXPIRED = answered(400, { error: 'KEY_EXPIRED', errorId: 20, message: 'The key is unknown or has expired: fetch the current one', field: 'keyId' });

/** Vault's key endpoint as a queue of answers (the last repeats), counting fetches. */
function keyEndpoint(...answers: VendorCallResult[]) {
  const endpoint = {
    fetches: 0,
    fetch: async () => {
      endpoint.fetches += 1;
      return answers.length > 1 ? answers.shift()! : answers[0];
    },
  };
  return endpoint;
}

/** A use of the key that records which key ids it was given and answers in turn. */
function calls(...answers: VendorCallResult[]) {
  const used: string[] = [];
  const use = async (key: VaultKey) => {
    used.push(key.id);
    return answers.length > 1 ? answers.shift()! : answers[0];
  };
  return { used, use };
}

describe('readVaultKey', () => {
  it('reads the id and the base64 DER SubjectPublicKeyInfo of an RSA key', () => {
    const key = readVaultKey(JSON.stringify({ id: 'k1', publicKey: RSA_KEYS[0] }));
    expect(key?.id).toBe('k1');
    expect(key?.publicKey.asymmetricKeyType).toBe('rsa');
    expect(key?.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it('accepts a numeric id, as a Java service may send one', () => {
    expect(readVaultKey(JSON.stringify({ id: 42, publicKey: RSA_KEYS[0] }))?.id).toBe('42');
  });

  it.each([
    ['no id', { publicKey: RSA_KEYS[0] }],
    ['no key', { id: 'k1' }],
    ['a key that is not DER', { id: 'k1', publicKey: 'bm90IGEga2V5' }],
    ['a key that is not RSA', { id: 'k1', publicKey: spki('ec') }],
    ['text', 'Service unavailable'],
  ])('finds no key in an answer with %s', (_case, body) => {
    expect(readVaultKey(typeof body === 'string' ? body : JSON.stringify(body))).toBeUndefined();
  });
});

describe('VaultKeys', () => {
  it('fetches the key once and uses it, by its id, for every call after', async () => {
    const endpoint = keyEndpoint(keyAnswer(0));
    const keys = new VaultKeys(endpoint.fetch);
    const { used, use } = calls(OK);

    expect(await keys.withCurrentKey(use)).toEqual(OK);
    expect(await keys.withCurrentKey(use)).toEqual(OK);

    expect(used).toEqual(['key-0', 'key-0']);
    expect(endpoint.fetches).toBe(1);
  });

  it('shares one fetch between concurrent calls', async () => {
    const endpoint = keyEndpoint(keyAnswer(0));
    const keys = new VaultKeys(endpoint.fetch);
    const { used, use } = calls(OK);

    await Promise.all([keys.withCurrentKey(use), keys.withCurrentKey(use), keys.withCurrentKey(use)]);

    expect(used).toEqual(['key-0', 'key-0', 'key-0']);
    expect(endpoint.fetches).toBe(1);
  });

  it('when Vault refuses the key as expired, fetches the new key and calls once more with it, then keeps it', async () => {
    const endpoint = keyEndpoint(keyAnswer(0), keyAnswer(1));
    const keys = new VaultKeys(endpoint.fetch);
    await keys.withCurrentKey(calls(OK).use);
    const { used, use } = calls(KEY_EXPIRED, OK);

    expect(await keys.withCurrentKey(use)).toEqual(OK);
    await keys.withCurrentKey(use);

    expect(used).toEqual(['key-0', 'key-1', 'key-1']);
    expect(endpoint.fetches).toBe(2);
  });

  it('refetches once only: a second KEY_EXPIRED is the answer, not a reason to loop', async () => {
    const endpoint = keyEndpoint(keyAnswer(0), keyAnswer(1), keyAnswer(2));
    const keys = new VaultKeys(endpoint.fetch);
    const { used, use } = calls(KEY_EXPIRED);

    expect(await keys.withCurrentKey(use)).toEqual(KEY_EXPIRED);

    expect(used).toEqual(['key-0', 'key-1']);
    expect(endpoint.fetches).toBe(2);
  });

  it('fetches once for calls that all held the rotated key', async () => {
    const endpoint = keyEndpoint(keyAnswer(0), keyAnswer(1));
    const keys = new VaultKeys(endpoint.fetch);
    await keys.withCurrentKey(calls(OK).use);
    const use = async (key: VaultKey) => (key.id === 'key-0' ? KEY_EXPIRED : OK);

    expect(await Promise.all([keys.withCurrentKey(use), keys.withCurrentKey(use)])).toEqual([OK, OK]);
    expect(endpoint.fetches).toBe(2);
  });

  it('answers with the key endpoint’s failure without calling, and fetches again next time', async () => {
    const unavailable = answered(503, { error: 'SERVICE_UNAVAILABLE', errorId: 4 });
    const endpoint = keyEndpoint(unavailable, keyAnswer(0));
    const keys = new VaultKeys(endpoint.fetch);
    const { used, use } = calls(OK);

    expect(await keys.withCurrentKey(use)).toEqual(unavailable);
    expect(await keys.withCurrentKey(use)).toEqual(OK);

    expect(used).toEqual(['key-0']);
    expect(endpoint.fetches).toBe(2);
  });

  it('treats an unreadable key as no usable answer (retried by the kit), without calling', async () => {
    const keys = new VaultKeys(keyEndpoint(answered(200, { id: 'k1', publicKey: 'garbage' })).fetch);
    const { used, use } = calls(OK);

    expect(await keys.withCurrentKey(use)).toEqual({ kind: 'unreachable', cause: 'malformed_token_response' });
    expect(used).toEqual([]);
  });

  it('answers with the failure of the refetch after a KEY_EXPIRED', async () => {
    const unreachable: VendorCallResult = { kind: 'unreachable', cause: 'timeout' };
    const keys = new VaultKeys(keyEndpoint(keyAnswer(0), unreachable).fetch);
    const { used, use } = calls(KEY_EXPIRED);

    expect(await keys.withCurrentKey(use)).toEqual(unreachable);
    expect(used).toEqual(['key-0']);
  });
});
