import { CompactEncrypt, compactDecrypt, decodeProtectedHeader, type CompactJWEHeaderParameters, type JWK } from 'jose';
import { generatePinKeyRing, PinKeyRing } from './pin-key-ring';
import { sealRsaOaepA256Gcm } from './rsa-oaep-a256gcm';
import { decryptPin, decryptSecret, encryptPin, encryptSecret, PinDecryptionError, sealForCommand, type PinDecryptionErrorCode } from './pin-jwe';

const PIN = '8264';

let ring: PinKeyRing;
let otherRing: PinKeyRing;

beforeAll(async () => {
  [ring, otherRing] = await Promise.all([generatePinKeyRing(), generatePinKeyRing()]);
});

function encryptRaw(
  plaintext: string,
  header: Partial<CompactJWEHeaderParameters> = {},
  key: JWK = ring.currentPublicJwk,
): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(plaintext))
    .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: key.kid, ...header })
    .encrypt(key);
}

async function decryptionError(jwe: string, keyRing = ring): Promise<PinDecryptionError> {
  const error: unknown = await decryptPin(jwe, keyRing).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof PinDecryptionError)) throw new Error(`expected a PinDecryptionError, got ${String(error)}`);
  return error;
}

describe('encryptPin and decryptPin', () => {
  it('round-trips a PIN through the current key of a ring', async () => {
    expect(await decryptPin(await encryptPin(PIN, ring), ring)).toBe(PIN);
  });

  it('produces a compact JWE with RSA-OAEP-256, A256GCM and the current kid over {"pin": ...}', async () => {
    const jwe = await encryptPin(PIN, ring);

    expect(decodeProtectedHeader(jwe)).toEqual({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: ring.currentKid });
    const { plaintext } = await compactDecrypt(jwe, ring.decryptionKey(ring.currentKid)!);
    expect(JSON.parse(new TextDecoder().decode(plaintext))).toEqual({ pin: PIN });
  });

  it('lets a client encrypt to a key taken from the public JWKS', async () => {
    const [publicKey] = ring.publicJwks().keys;

    expect(await decryptPin(await encryptPin('019283', publicKey), ring)).toBe('019283');
  });

  it('refuses to encrypt something that is not a PIN, without echoing it', async () => {
    const rejection = encryptPin('82a64', ring);

    await expect(rejection).rejects.toThrow(RangeError);
    await expect(rejection).rejects.not.toThrow('82a64');
  });

  it('accepts A256CBC-HS512 content encryption from clients that use it', async () => {
    const jwe = await encryptRaw(JSON.stringify({ pin: PIN }), { enc: 'A256CBC-HS512' });

    expect(await decryptPin(jwe, ring)).toBe(PIN);
  });

  it('ignores extra plaintext members so fields such as a nonce can be added later', async () => {
    const jwe = await encryptRaw(JSON.stringify({ pin: PIN, nonce: 'n-1' }));

    expect(await decryptPin(jwe, ring)).toBe(PIN);
  });

  describe('across a key rotation', () => {
    let rotated: PinKeyRing;

    beforeAll(async () => {
      const newKey = await generatePinKeyRing();
      rotated = await PinKeyRing.fromJwks({ keys: [...newKey.toPrivateJwks().keys, ...ring.toPrivateJwks().keys] });
    });

    it('still decrypts PINs encrypted to the previous key', async () => {
      const beforeRotation = await encryptPin(PIN, ring);

      expect(await decryptPin(beforeRotation, rotated)).toBe(PIN);
    });

    it('encrypts new PINs to the new key', async () => {
      const jwe = await encryptPin(PIN, rotated);

      expect(decodeProtectedHeader(jwe).kid).toBe(rotated.currentKid);
      expect(rotated.currentKid).not.toBe(ring.currentKid);
      await expect(decryptPin(jwe, ring)).rejects.toMatchObject({ code: 'UNKNOWN_KEY' });
    });
  });

  describe('rejects with a stable code', () => {
    const withPin = JSON.stringify({ pin: PIN });
    const cases: Array<{ name: string; jwe: () => Promise<string>; code: PinDecryptionErrorCode }> = [
      { name: 'a kid the ring does not hold', jwe: () => encryptPin(PIN, otherRing), code: 'UNKNOWN_KEY' },
      { name: 'a JWE without kid', jwe: () => encryptRaw(withPin, { kid: undefined }), code: 'UNKNOWN_KEY' },
      {
        name: 'a JWE naming our kid but encrypted to another key',
        jwe: () => encryptRaw(withPin, { kid: ring.currentKid }, otherRing.currentPublicJwk),
        code: 'DECRYPTION_FAILED',
      },
      {
        name: 'a JWE whose ciphertext was tampered with',
        jwe: async () => {
          const parts = (await encryptPin(PIN, ring)).split('.');
          parts[3] = (parts[3][0] === 'A' ? 'B' : 'A') + parts[3].slice(1);
          return parts.join('.');
        },
        code: 'DECRYPTION_FAILED',
      },
      {
        name: 'RSA-OAEP with SHA-1',
        jwe: () => encryptRaw(withPin, { alg: 'RSA-OAEP' }, { ...ring.currentPublicJwk, alg: 'RSA-OAEP' }),
        code: 'UNSUPPORTED_ALGORITHM',
      },
      { name: 'A128GCM content encryption', jwe: () => encryptRaw(withPin, { enc: 'A128GCM' }), code: 'UNSUPPORTED_ALGORITHM' },
      { name: 'a compressed plaintext', jwe: () => encryptRaw(withPin, { zip: 'DEF' }), code: 'UNSUPPORTED_ALGORITHM' },
      {
        name: 'a critical header parameter pinflow does not know',
        jwe: async () => sealRsaOaepA256Gcm({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: ring.currentKid, crit: ['pinflow_x'], pinflow_x: 1 }, Buffer.from(withPin), ring.currentPublicJwk),
        code: 'UNSUPPORTED_ALGORITHM',
      },
      { name: 'text that is not a JWE', jwe: async () => 'not-a-jwe', code: 'MALFORMED' },
      { name: 'five parts with an undecodable header', jwe: async () => '!!.a.b.c.d', code: 'MALFORMED' },
      {
        name: 'a JWE with its tag cut off',
        jwe: async () => `${(await encryptPin(PIN, ring)).split('.').slice(0, 4).join('.')}.`,
        code: 'MALFORMED',
      },
      { name: 'a bare PIN as plaintext', jwe: () => encryptRaw(PIN), code: 'INVALID_PLAINTEXT' },
      { name: 'a numeric pin', jwe: () => encryptRaw(JSON.stringify({ pin: Number(PIN) })), code: 'INVALID_PLAINTEXT' },
      { name: 'a pin with a letter', jwe: () => encryptRaw(JSON.stringify({ pin: `${PIN}x` })), code: 'INVALID_PLAINTEXT' },
      { name: 'a pin of three digits', jwe: () => encryptRaw(JSON.stringify({ pin: '826' })), code: 'INVALID_PLAINTEXT' },
      {
        name: 'a pin of thirteen digits',
        jwe: () => encryptRaw(JSON.stringify({ pin: `${PIN}${PIN}${PIN}1` })),
        code: 'INVALID_PLAINTEXT',
      },
      { name: 'a plaintext without a pin member', jwe: () => encryptRaw(JSON.stringify({ PIN })), code: 'INVALID_PLAINTEXT' },
    ];

    it.each(cases)('$name → $code', async ({ jwe, code }) => {
      const error = await decryptionError(await jwe());

      expect(error.code).toBe(code);
    });

    it.each(cases)('never puts the PIN or the JWE into the error for $name', async ({ jwe }) => {
      const token = await jwe();
      const error = await decryptionError(token);

      for (const rendered of [error.message, String(error), JSON.stringify(error), error.stack ?? '']) {
        expect(rendered).not.toContain(PIN);
        expect(rendered).not.toContain(token);
      }
      expect(error.cause).toBeUndefined();
    });
  });
});

describe('other secrets travel the same way, each under its own name', () => {
  const PAN = '4111111111111111';

  it('round-trips a PAN, a passcode, a one-time code and a clear PIN block', async () => {
    expect(await decryptSecret('pan', await encryptSecret('pan', PAN, ring), ring)).toBe(PAN);
    expect(await decryptSecret('passcode', await encryptSecret('passcode', '5821', ring), ring)).toBe('5821');
    expect(await decryptSecret('oneTimeCode', await encryptSecret('oneTimeCode', '730914', ring), ring)).toBe('730914');
    expect(await decryptSecret('pinBlock', await encryptSecret('pinBlock', '041225EEEEEEEEEE', ring), ring)).toBe('041225EEEEEEEEEE');
  });

  it('takes a PIN block only as 16 uppercase hex digits', async () => {
    await expect(encryptSecret('pinBlock', '041225eeeeeeeeee', ring)).rejects.toBeInstanceOf(RangeError);
    await expect(encryptSecret('pinBlock', '041225EEEEEEEEE', ring)).rejects.toBeInstanceOf(RangeError);
  });

  it('never lets one kind pass for another (a PAN is not a PIN)', async () => {
    const error = await decryptSecret('pin', await encryptSecret('pan', PAN, ring), ring).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(PinDecryptionError);
    expect((error as PinDecryptionError).code).toBe('INVALID_PLAINTEXT');
    expect((error as Error).message).not.toContain(PAN);
  });

  it('refuses to encrypt a value that does not look like its kind, without echoing it', async () => {
    const error = await encryptSecret('pan', '12345', ring).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).not.toContain('12345');
  });
});

describe('a secret bound to its card, its command and an expiry', () => {
  const binding = { cardId: 'card-1', commandId: '0b6f7f6e-3a55-4c1e-9a0c-7d7b3c3f2d11' };
  const inAnHour = () => new Date(Date.now() + 3_600_000);

  async function refusal(jwe: string, expected: typeof binding, now?: number): Promise<PinDecryptionErrorCode | undefined> {
    return decryptSecret('pin', jwe, ring, expected, now).then(
      () => undefined,
      (error: unknown) => (error instanceof PinDecryptionError ? error.code : undefined),
    );
  }

  it('opens for the card and command it was sealed for, before it expires', async () => {
    const jwe = await encryptPin(PIN, ring, { ...binding, expiresAt: inAnHour() });

    expect(await decryptPin(jwe, ring, binding)).toBe(PIN);
  });

  it('is refused for another card', async () => {
    const jwe = await encryptPin(PIN, ring, { ...binding, expiresAt: inAnHour() });

    expect(await refusal(jwe, { ...binding, cardId: 'card-2' })).toBe('BOUND_TO_ANOTHER_CARD');
  });

  it('is refused for another command of the same card', async () => {
    const jwe = await encryptPin(PIN, ring, { ...binding, expiresAt: inAnHour() });

    expect(await refusal(jwe, { ...binding, commandId: '9d1c8f57-0f0e-4a0f-8f7e-2c5d6b7a8e90' })).toBe('BOUND_TO_ANOTHER_COMMAND');
  });

  it('is refused once expired', async () => {
    const expiresAt = inAnHour();
    const jwe = await encryptPin(PIN, ring, { ...binding, expiresAt });

    expect(await refusal(jwe, binding, expiresAt.getTime() + 1_000)).toBe('EXPIRED');
  });

  it('is refused when it carries no binding at all', async () => {
    expect(await refusal(await encryptPin(PIN, ring), binding)).toBe('UNBOUND');
  });

  it('cannot be re-bound by editing its header: the content encryption authenticates it', async () => {
    const [header, ...rest] = (await encryptPin(PIN, ring, { ...binding, expiresAt: inAnHour() })).split('.');
    const edited = { ...JSON.parse(Buffer.from(header, 'base64url').toString()), pinflow_card: 'card-2' };
    const forged = [Buffer.from(JSON.stringify(edited)).toString('base64url'), ...rest].join('.');

    expect(await refusal(forged, { ...binding, cardId: 'card-2' })).toBe('DECRYPTION_FAILED');
  });

  it('says no more of the binding than which part did not match', async () => {
    const jwe = await encryptPin(PIN, ring, { ...binding, expiresAt: inAnHour() });
    const error = await decryptSecret('pin', jwe, ring, { ...binding, cardId: 'card-2' }).then(String, (thrown: unknown) => thrown as Error);

    expect(error).toBeInstanceOf(PinDecryptionError);

    expect((error as Error).message).toBe('The encrypted secret was sealed for another card');
  });
});

describe('the secrets of commands, sealed to a worker key under a shared content key', () => {
  const command = { cardId: 'card-1', commandId: '0b6f7f6e-3a55-4c1e-9a0c-7d7b3c3f2d11' };
  const otherCommand = { cardId: 'card-2', commandId: '9d1c8f57-0f0e-4a0f-8f7e-2c5d6b7a8e90' };
  const encryptedKeyOf = (jwe: string) => jwe.split('.')[1];

  it('share one CEK, while JWEs sealed otherwise each get their own', async () => {
    const sealed = [await sealForCommand('pin', PIN, ring, command), await sealForCommand('pan', '4111111111111111', ring, otherCommand)];
    const others = [await encryptPin(PIN, ring), await encryptPin(PIN, ring)];

    expect(encryptedKeyOf(sealed[0])).toBe(encryptedKeyOf(sealed[1]));
    expect(encryptedKeyOf(others[0])).not.toBe(encryptedKeyOf(others[1]));
    expect([await decryptSecret('pin', sealed[0], ring, command), await decryptSecret('pan', sealed[1], ring, otherCommand)]).toEqual([PIN, '4111111111111111']);
  });

  it('cannot be moved to another command under the same CEK by taking its header', async () => {
    const [mine, theirs] = [await sealForCommand('pin', PIN, ring, command), await sealForCommand('pin', '1357', ring, otherCommand)];
    const moved = [theirs.split('.')[0], ...mine.split('.').slice(1)].join('.');

    const error = await decryptSecret('pin', moved, ring, otherCommand).catch((thrown: unknown) => thrown);

    expect(error).toBeInstanceOf(PinDecryptionError);
    expect((error as PinDecryptionError).code).toBe('DECRYPTION_FAILED');
  });
});
