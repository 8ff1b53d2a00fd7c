import type { ClientCredentials } from './tokens';

/** A sandbox's answer: its status, content type, raw text, and the text parsed when it is JSON. */
export interface SandboxAnswer {
  status: number;
  contentType: string | null;
  text: string;
  body: any;
}

export interface SandboxCallOptions {
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is, as JSON's content type: for bodies that are not JSON. */
  raw?: string;
  /** The bearer token for this call; null for none. The client's `bearer` when left out. */
  token?: string | null;
  headers?: Record<string, string>;
}

/** Talks to a running sandbox over HTTP, as tests, demos and benchmarks do: its vendor endpoints and its hooks. */
export class SandboxClient {
  /** The bearer token vendor calls carry unless a call says otherwise. */
  bearer?: string;

  constructor(readonly baseUrl: string) {}

  /** A client of the sandbox at `baseUrl` holding a fresh token for these credentials. */
  static async signedIn(baseUrl: string, tokenPath: string, credentials: ClientCredentials): Promise<SandboxClient> {
    const client = new SandboxClient(baseUrl);
    client.bearer = await client.fetchToken(tokenPath, credentials);
    return client;
  }

  async call(method: string, route: string, options: SandboxCallOptions = {}): Promise<SandboxAnswer> {
    const bearer = options.token === undefined ? this.bearer : options.token;
    const response = await fetch(`${this.baseUrl}${route}`, {
      method,
      headers: {
        ...(options.body !== undefined || options.raw !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        ...options.headers,
      },
      body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: the text is the body.
    }
    return { status: response.status, contentType: response.headers.get('content-type'), text, body };
  }

  /** A new bearer token from the sandbox's token endpoint, for client credentials sent as a form. */
  async fetchToken(tokenPath: string, credentials: ClientCredentials): Promise<string> {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: credentials.clientId, client_secret: credentials.clientSecret });
    const response = await fetch(`${this.baseUrl}${tokenPath}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    if (!response.ok) throw new Error(`the sandbox refused a token: ${response.status}`);
    return ((await response.json()) as { access_token: string }).access_token;
  }

  /** Changes the knobs it names (`PUT /sandbox/knobs`). */
  setKnobs(knobs: Record<string, unknown>): Promise<SandboxAnswer> {
    return this.call('PUT', '/sandbox/knobs', { body: knobs });
  }
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
/** Random ids in hex without dashes: Solaris' change request ids, key ids, strings to sign. */
const LONG_HEX = /[0-9a-f]{16,}/gi;

/**
 * The digit secrets (PINs, passcodes, codes) that stand in `text` on their own, not as part of a
 * longer run of digits. Random ids (UUIDs, and runs of 16 or more hex digits) are taken out first:
 * a PIN's digits inside one are no leak, and now and then a random id holds them between two letters.
 */
export function leakedDigits(text: string, secrets: readonly string[]): string[] {
  const searched = text.replace(UUID, '<uuid>').replace(LONG_HEX, '<hex>');
  return secrets.filter((secret) => new RegExp(`(?<![0-9])${secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![0-9])`).test(searched));
}
