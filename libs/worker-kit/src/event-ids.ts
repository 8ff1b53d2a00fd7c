import { createHash } from 'node:crypto';

// Namespace of every event id the workers derive; fixed forever, or ids stop deduping across releases.
const NAMESPACE = Buffer.from('6f1c5d2e8a3b4c7d9e0f1a2b3c4d5e6f', 'hex');

/**
 * A name-based UUID (RFC 9562 version 5): the same name always gives the same id, so an outcome that
 * is published again after a redelivery is dropped by consumers that dedupe on event id.
 */
export function deterministicEventId(...parts: string[]): string {
  const hash = createHash('sha1').update(NAMESPACE).update(parts.join('\u0000')).digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
