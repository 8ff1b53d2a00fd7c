import { issuerEncryptionKeyPair, iso0Block, iso1Block, ThalesD1Simulator } from '@pinflow/testing';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { D1Error } from './d1-errors';
import { D1EncryptionKeys } from './pin-block';

/** D1's encrypted JSON PIN blocks, read in memory as pinflow's CMS door reads them. */
describe('D1EncryptionKeys.read', () => {
  const PIN = '739146';
  const PAN = '4000123412341234';
  let keys: D1EncryptionKeys;
  let d1: ThalesD1Simulator;

  beforeAll(async () => {
    const pair = await issuerEncryptionKeyPair();
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'pinflow-d1-key-')), 'key.json');
    writeFileSync(file, JSON.stringify(pair.privateJwk));
    keys = await D1EncryptionKeys.load(file);
    // Only its encryption is used: no call is made.
    d1 = new ThalesD1Simulator('http://unused.invalid', { clientId: 'd1', clientSecret: 'unused' }, pair.publicJwk);
  });

  const refusal = (read: Promise<unknown>) => read.then(() => 'read', (error: D1Error) => error.getResponse());

  it('gives a 3DES_SECCOS block’s PIN and the change counter it was computed with', async () => {
    const encryptedPinBlock = await d1.encrypt(JSON.stringify({ format: '3DES_SECCOS', pinBlock: iso1Block(PIN), changeCounter: 7 }));

    expect(await keys.read({ type: '3DES_SECCOS', encryptedPinBlock })).toEqual({ type: '3DES_SECCOS', pin: PIN, changeCounter: 7 });
  });

  it('gives an ISO0 block as D1 made it, in uppercase, with the PIN length it shows without the PAN D1’s call does not carry', async () => {
    const encryptedPinBlock = await d1.encrypt(JSON.stringify({ format: 'ISO0', pinBlock: iso0Block(PIN, PAN).toLowerCase() }));

    expect(await keys.read({ type: 'ISO0', encryptedPinBlock })).toEqual({ type: 'ISO0', pinBlock: iso0Block(PIN, PAN), pinLength: 6 });
  });

  it.each([
    ['another format', '141234FFFFFFFFFF'],
    ['a PIN length nibble outside 4 to 12', '0D1225EEEEEEEEEE'],
    ['a first PIN digit that is not decimal', '04B225EEEEEEEEEE'],
  ])('refuses an ISO0 block of %s, without quoting it', async (_reason, block) => {
    const encryptedPinBlock = await d1.encrypt(JSON.stringify({ format: 'ISO0', pinBlock: block }));

    const refused = await refusal(keys.read({ type: 'ISO0', encryptedPinBlock }));

    expect(refused).toMatchObject({ errorCode: 'INVALID_PIN_BLOCK' });
    expect(JSON.stringify(refused)).not.toContain(block);
  });

  it('refuses a Seccos block without its change counter', async () => {
    const encryptedPinBlock = await d1.encrypt(JSON.stringify({ format: '3DES_SECCOS', pinBlock: iso1Block(PIN) }));

    expect(await refusal(keys.read({ type: '3DES_SECCOS', encryptedPinBlock }))).toMatchObject({ errorCode: 'INVALID_PIN_BLOCK' });
  });
});
