import { isSuccess, parseJsonOrText, VendorCallResult } from '@pinflow/worker-kit';
import { createPublicKey, KeyObject } from 'node:crypto';
import { z } from 'zod';
import { isKeyExpired } from './vault-errors';

/** Vault's RSA key for passcodes, and the id `code/set` must name it by. */
export interface VaultKey {
  id: string;
  publicKey: KeyObject;
}

export type KeyResult = { kind: 'key'; key: VaultKey } | VendorCallResult;

/** `GET /v2/card/rsa-public-key`: `publicKey` is the base64 DER SubjectPublicKeyInfo. */
const keyAnswer = z.object({
  id: z.union([z.string().min(1), z.number()]).transform(String),
  publicKey: z.string().min(1),
});

/** The key in Vault's answer, or undefined when the answer holds no RSA public key. */
export function readVaultKey(body: string): VaultKey | undefined {
  const parsed = keyAnswer.safeParse(parseJsonOrText(body));
  if (!parsed.success) return undefined;
  try {
    const publicKey = createPublicKey({ key: Buffer.from(parsed.data.publicKey, 'base64'), format: 'der', type: 'spki' });
    return publicKey.asymmetricKeyType === 'rsa' ? { id: parsed.data.id, publicKey } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Vault's current key, fetched once and kept under its id until Vault refuses that id. Vault does not
 * say how long a key lives; it answers KEY_EXPIRED to one it rotated away, which is when a fresh one
 * is fetched. Concurrent calls share one fetch.
 */
export class VaultKeys {
  private cached?: VaultKey;
  private pending?: Promise<KeyResult>;

  constructor(private readonly fetchKey: () => Promise<VendorCallResult>) {}

  /**
   * Calls `use` with the current key. When Vault refuses that key as expired, fetches the key once
   * more and calls `use` once more: a second refusal is Vault's answer, so a misbehaving Vault cannot
   * keep the worker fetching. A failed key fetch is the answer, and `use` is not called with nothing.
   */
  async withCurrentKey(use: (key: VaultKey) => Promise<VendorCallResult>): Promise<VendorCallResult> {
    const first = await this.current();
    if (first.kind !== 'key') return first;
    const result = await use(first.key);
    if (!isKeyExpired(result)) return result;
    this.forget(first.key.id);
    const fresh = await this.current();
    return fresh.kind === 'key' ? use(fresh.key) : fresh;
  }

  private current(): Promise<KeyResult> {
    if (this.cached) return Promise.resolve({ kind: 'key', key: this.cached });
    this.pending ??= this.fetch().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** By id: a call that held the old key must not drop the new one another call just fetched. */
  private forget(id: string): void {
    if (this.cached?.id === id) this.cached = undefined;
  }

  private async fetch(): Promise<KeyResult> {
    const result = await this.fetchKey();
    if (!isSuccess(result)) return result;
    const key = readVaultKey(result.body);
    // Like an unreadable token: Vault gave no usable answer, worth another attempt later.
    if (!key) return { kind: 'unreachable', cause: 'malformed_token_response' };
    this.cached = key;
    return { kind: 'key', key };
  }
}
