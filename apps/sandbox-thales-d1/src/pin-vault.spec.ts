import { PinVault } from './pin-vault';

describe('the PIN vault', () => {
  it('gives back a sealed PIN only to the vault that sealed it', async () => {
    const vault = new PinVault();
    const sealed = await vault.seal('583920');

    expect(sealed).not.toContain('583920');
    expect(await vault.unseal(sealed)).toBe('583920');
    expect(await vault.matches(sealed, '583920')).toBe(true);
    expect(await vault.matches(sealed, '583921')).toBe(false);
    await expect(new PinVault().unseal(sealed)).rejects.toThrow();
  });
});
