import { readFile } from 'node:fs/promises';
import type { CryptoKey } from 'jose';
import { PinKeyRing, PinPublicKeyRing, type PinPublicJwk } from './pin-key-ring';

export interface KeyRingFileOptions {
  /** How often the file is read again; a changed file replaces the ring without a restart. */
  reloadIntervalMs: number;
  /** A reload that failed (the old ring stays in use); the message names the file, never key material. */
  onReloadError?: (error: Error) => void;
  /** A reload that changed the ring: the file and the kids it now holds, current first. */
  onReload?: (file: string, kids: string[]) => void;
}

/** A lookup of an unknown kid reads the file again, at most this often: a flood of bad kids costs no disk storm. */
const UNKNOWN_KID_RELOAD_MS = 1_000;

/**
 * A key ring kept in a JWKS file (a mounted Secret), read again on an interval and when a secret
 * names a kid the ring does not hold: replacing the file rotates the keys without a restart. The ring
 * is the file's, nothing more: a key leaving the file stops decrypting at once (a leaked key), and a
 * retiring key stays in the file with its `notAfter`, so that every pod keeps it equally long.
 */
abstract class KeyRingFile<R extends PinKeyRing | PinPublicKeyRing> {
  #ring: R;
  #text: string;
  #reloading?: Promise<void>;
  #lastReload = Date.now();
  readonly #timer: NodeJS.Timeout;

  protected constructor(
    readonly file: string,
    ring: R,
    text: string,
    private readonly options: KeyRingFileOptions,
  ) {
    this.#ring = ring;
    this.#text = text;
    this.#timer = setInterval(() => void this.reload(), options.reloadIntervalMs).unref();
  }

  protected abstract parse(text: string): Promise<R>;

  get ring(): R {
    return this.#ring;
  }

  get currentPublicJwk(): PinPublicJwk {
    return this.#ring.currentPublicJwk;
  }

  /** Reads the file again now; concurrent callers share one read. A broken file leaves the ring as it was. */
  reload(): Promise<void> {
    this.#reloading ??= this.readAgain().finally(() => {
      this.#reloading = undefined;
    });
    return this.#reloading;
  }

  /** Reloads for a kid the ring does not know, unless the file was read a moment ago. */
  protected async reloadForUnknownKid(): Promise<void> {
    if (Date.now() - this.#lastReload >= UNKNOWN_KID_RELOAD_MS) await this.reload();
  }

  close(): void {
    clearInterval(this.#timer);
  }

  private async readAgain(): Promise<void> {
    this.#lastReload = Date.now();
    try {
      const text = await readFile(this.file, 'utf8');
      if (text === this.#text) return;
      this.#ring = await this.parse(text);
      this.#text = text;
      this.options.onReload?.(this.file, this.#ring.publicJwks().keys.map((key) => key.kid));
    } catch (error) {
      // fs errors name the file only; parse errors are built to carry no key material.
      this.options.onReloadError?.(error instanceof Error ? error : new Error(`Reloading ${this.file} failed`));
    }
  }
}

/** A private key ring in a file: intake's caller-facing PIN keys, or a worker's own command keys. */
export class PrivateKeyRingFile extends KeyRingFile<PinKeyRing> {
  /** Reads and validates the file; throws a message naming the file and what is wrong with it. */
  static async open(file: string, options: KeyRingFileOptions): Promise<PrivateKeyRingFile> {
    const text = await readKeyFile(file);
    return new PrivateKeyRingFile(file, await parsePrivate(file, text), text, options);
  }

  protected parse(text: string): Promise<PinKeyRing> {
    return parsePrivate(this.file, text);
  }

  /** Public halves of the current ring's keys, current first: what callers encrypt to. */
  publicJwks(): { keys: PinPublicJwk[] } {
    return this.ring.publicJwks();
  }

  /** The private key for `kid`, unless the file does not hold it or retired it. */
  async decryptionKey(kid: string): Promise<CryptoKey | undefined> {
    const key = this.ring.decryptionKey(kid);
    if (key) return key;
    // Sealed to a key this ring does not hold yet: the file may have been rotated since the last read.
    await this.reloadForUnknownKid();
    return this.ring.decryptionKey(kid);
  }
}

/** The public halves of a ring held elsewhere: what intake seals a vendor's secrets to. */
export class PublicKeyRingFile extends KeyRingFile<PinPublicKeyRing> {
  static async open(file: string, options: KeyRingFileOptions): Promise<PublicKeyRingFile> {
    const text = await readKeyFile(file);
    return new PublicKeyRingFile(file, await parsePublic(file, text), text, options);
  }

  protected parse(text: string): Promise<PinPublicKeyRing> {
    return parsePublic(this.file, text);
  }
}

async function readKeyFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`Cannot read key file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
}

function parsePrivate(file: string, text: string): Promise<PinKeyRing> {
  return PinKeyRing.fromJson(text, `key file ${file}`);
}

async function parsePublic(file: string, text: string): Promise<PinPublicKeyRing> {
  return PinPublicKeyRing.fromJson(text, `public key file ${file}`);
}
