import { decodeIso1 } from '@pinflow/pin-block';
import { iso0PinBlock, seccosPinBlock } from './pin-block-json';

describe('the JSON PIN blocks pushed to the CMS', () => {
  it('builds an ISO0 block as the ISO 9564 format 0 block of the PIN under the card’s PAN', () => {
    expect(iso0PinBlock('1234', '4111111111111111')).toEqual({ format: 'ISO0', pinBlock: '041225EEEEEEEEEE' });
  });

  it('binds an ISO0 block to the PAN: another card gives another block for the same PIN', () => {
    expect(iso0PinBlock('1234', '5413330089020011').pinBlock).not.toBe(iso0PinBlock('1234', '4111111111111111').pinBlock);
  });

  it('builds a Seccos block as a format 1 block of the PIN with the change counter it was computed with', () => {
    const block = seccosPinBlock('604729', 7);

    expect(block).toEqual({ format: '3DES_SECCOS', pinBlock: expect.stringMatching(/^16604729[0-9A-F]{8}$/), changeCounter: 7 });
    expect(decodeIso1(block.pinBlock)).toBe('604729');
  });

  it('fills a Seccos block at random, so the same PIN never gives the same block twice', () => {
    expect(seccosPinBlock('604729', 0).pinBlock).not.toBe(seccosPinBlock('604729', 0).pinBlock);
  });
});
