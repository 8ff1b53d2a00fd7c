import { PinVault } from './pin-vault';

describe('the PIN vault', () => {
  it('gives back a sealed PIN only to the vault that sealed it', () => {
    const vault = new PinVault();
    const sealed = vault.seal('583920');

    expect(sealed).not.toContain('583920');
    expect(vault.unseal(sealed)).toBe('583920');
    expect(vault.matches(sealed, '583920')).toBe(true);
    expect(vault.matches(sealed, '583921')).toBe(false);
    expect(() => new PinVault().unseal(sealed)).toThrow();
  });

  it('refuses a sealed PIN that was tampered with', () => {
    const vault = new PinVault();
    const sealed = Buffer.from(vault.seal('583920'), 'base64url');
    sealed[sealed.length - 1] ^= 1;

    expect(() => vault.unseal(sealed.toString('base64url'))).toThrow();
  });
});
