import { CompactSign, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MessageSignatureVerifier, SignatureRejectedError } from './message-signatures';

describe('MessageSignatureVerifier: who signed the exact bytes of a message', () => {
  const message = Buffer.from('{"clientRequestId":"r-1","cardId":"card-1"}');
  let verifier: MessageSignatureVerifier;
  let requesterKey: CryptoKey;
  let strangerKey: CryptoKey;

  async function detached(payload: Uint8Array, key: CryptoKey, header: Record<string, unknown> = { alg: 'ES256', kid: 'k1', iss: 'core-banking' }): Promise<string> {
    const [protectedHeader, , signature] = (await new CompactSign(payload).setProtectedHeader(header as { alg: string }).sign(key)).split('.');
    return `${protectedHeader}..${signature}`;
  }

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    requesterKey = pair.privateKey;
    strangerKey = (await generateKeyPair('ES256')).privateKey;
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'signatures-')), 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1' }] }));
    verifier = await MessageSignatureVerifier.fromKeySources({ 'core-banking': { publicKeyFile: file } }, 'TEST_REQUESTERS');
  });

  it('names the requester whose registered key signed the bytes', async () => {
    await expect(verifier.verify(message, await detached(message, requesterKey))).resolves.toBe('core-banking');
  });

  it.each([
    ['no signature', async () => undefined],
    ['a signature over other bytes', async () => detached(Buffer.from(`${message} `), requesterKey)],
    ['a key the requester did not register', async () => detached(message, strangerKey)],
    ['a requester nobody registered', async () => detached(message, requesterKey, { alg: 'ES256', kid: 'k1', iss: 'someone-else' })],
    ['a JWS that carries its payload instead of detaching it', async () => new CompactSign(message).setProtectedHeader({ alg: 'ES256', kid: 'k1', iss: 'core-banking' } as { alg: string }).sign(requesterKey)],
    ['a symmetric algorithm', async () => detached(message, new Uint8Array(32) as unknown as CryptoKey, { alg: 'HS256', kid: 'k1', iss: 'core-banking' })],
  ])('refuses %s', async (_case, signature) => {
    await expect(verifier.verify(message, await signature())).rejects.toBeInstanceOf(SignatureRejectedError);
  });
});
