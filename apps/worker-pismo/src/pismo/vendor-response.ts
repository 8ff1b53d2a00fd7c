import { parseJsonOrText } from '@pinflow/worker-kit';

/**
 * Pismo answers a password change with a JSON string, `"[<cid>] Card updated"`; the cid in it is the
 * correlation id its events will carry. Undefined when the body does not have that shape.
 */
export function correlationIdFromCardUpdated(body: string): string | undefined {
  // parseJsonOrText falls back to the bare text, which has the same shape when a gateway strips the quotes.
  const text = parseJsonOrText(body);
  if (typeof text !== 'string') return undefined;
  return /^\s*\[([^\]\s]+)\]/.exec(text)?.[1];
}
