import { vendorPlatform, type VendorName } from '@pinflow/platform';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DrillEnvironment } from './environment';

/** One PIN change of the stream, before it is sent. */
export interface PlannedCommand {
  vendor: VendorName;
  cardId: string;
}

/** What became of a PIN change sent to intake. */
export interface SentCommand extends PlannedCommand {
  /** Set once intake answered 202. */
  requestId?: string;
  acceptedAt?: number;
  /** Why intake never accepted it, after the retries a careful client makes. */
  refused?: string;
  /** Epoch milliseconds of the first attempt. */
  sentAt: number;
  /** Epoch milliseconds of a refused one's last answer (or of giving up on one). */
  refusedAt?: number;
  /** HTTP attempts, the first included (the same Idempotency-Key on every one). */
  attempts: number;
  /** From the first attempt to the 202. */
  acceptLatencyMs?: number;
  /** What the sandbox counts the change under, for a vendor whose sandbox keys it by the request (Solaris: its device JWE's digest). */
  requestKey?: string;
}

/** Cards the stream's changes spread over, per vendor: about four changes per card. */
const CHANGES_PER_CARD = 4;
/** How long a client keeps retrying a request intake did not accept (5xx, 429, no answer). */
const CLIENT_RETRY_MS = 60_000;
const REQUEST_TIMEOUT_MS = 15_000;
const SEED_CONCURRENCY = 16;

/**
 * The stream's changes, round robin over the vendors and spread over many cards. A vendor whose
 * scenario says so (Vault: one-time codes replace each other per card, and its sandbox counts applied
 * passcodes per card) gets a card of its own for every change, keeping every change valid and countable.
 * `scenario` keeps each scenario's cards apart from the others'.
 */
export function planStream(env: DrillEnvironment, scenario: number, commands: number): PlannedCommand[] {
  const vendors = env.vendors;
  const cardsPerVendor = Math.max(1, Math.ceil(commands / vendors.length / CHANGES_PER_CARD));
  return Array.from({ length: commands }, (_, index) => {
    const vendor = vendors[index % vendors.length];
    const round = Math.floor(index / vendors.length);
    const card = env.requests.oneChangePerCard(vendor) ? round : round % cardsPerVendor;
    return { vendor, cardId: env.requests.cardId(vendor, scenario * 1_000_000 + card) };
  });
}

export async function seedCards(env: DrillEnvironment, planned: PlannedCommand[]): Promise<void> {
  const cards = [...new Map(planned.map((command) => [`${command.vendor}/${command.cardId}`, command])).values()];
  for (let next = 0; next < cards.length; next += SEED_CONCURRENCY) {
    await Promise.all(cards.slice(next, next + SEED_CONCURRENCY).map((card) => env.requests.seed(card.vendor, card.cardId)));
  }
}

function isRetryable(status: number): boolean {
  return status >= 500 || status === 429;
}

/** What an answer says about why it is not a 202: a problem's code or title, never the request. */
async function refusal(response: Response): Promise<string> {
  const body = (await response.json().catch(() => ({}))) as { code?: string; title?: string };
  return `HTTP ${response.status}${body.code ? ` ${body.code}` : body.title ? ` ${body.title}` : ''}`;
}

/** Sends one change as a careful client does: an Idempotency-Key, and retries while intake cannot answer. */
async function submit(env: DrillEnvironment, planned: PlannedCommand): Promise<SentCommand> {
  const request = await env.requests.request(planned.vendor, planned.cardId);
  const { key } = vendorPlatform(planned.vendor).applied;
  const idempotencyKey = randomUUID();
  const started = Date.now();
  const sent: SentCommand = { ...planned, attempts: 0, sentAt: started };
  if (typeof key === 'function') sent.requestKey = key(request);
  for (;;) {
    sent.attempts += 1;
    let why: string;
    try {
      const response = await fetch(`${env.stack.urls.intake}${request.path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${env.writeToken}`, 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
        body: JSON.stringify(request.body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (response.status === 202) {
        sent.requestId = ((await response.json()) as { requestId: string }).requestId;
        sent.acceptedAt = Date.now();
        sent.acceptLatencyMs = sent.acceptedAt - started;
        return sent;
      }
      why = await refusal(response);
      if (!isRetryable(response.status)) return { ...sent, refused: why, refusedAt: Date.now() };
    } catch (error) {
      why = (error as Error).name === 'TimeoutError' ? 'no answer' : 'connection failed';
    }
    if (Date.now() - started > CLIENT_RETRY_MS) return { ...sent, refused: why, refusedAt: Date.now() };
    await sleep(Math.min(5_000, 250 * 2 ** sent.attempts));
  }
}

/** Sends the planned changes evenly over `durationMs` (an open loop: a slow answer does not slow the stream). */
export async function sendStream(env: DrillEnvironment, planned: PlannedCommand[], durationMs: number): Promise<SentCommand[]> {
  const interval = durationMs / planned.length;
  const started = Date.now();
  const inFlight: Promise<SentCommand>[] = [];
  for (const [index, command] of planned.entries()) {
    const wait = started + index * interval - Date.now();
    if (wait > 0) await sleep(wait);
    const sentAt = Date.now();
    inFlight.push(submit(env, command).catch((error: unknown) => ({ ...command, attempts: 0, sentAt, refused: `not sent: ${(error as Error).message}`, refusedAt: Date.now() })));
  }
  return Promise.all(inFlight);
}
