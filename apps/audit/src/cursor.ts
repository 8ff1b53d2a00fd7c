// Cursors are opaque to callers so that paging can change (say, to a composite key) without
// breaking them; the version prefix lets a later format tell old cursors apart.
const PREFIX = 'v1:';
const MAX_SEQUENCE = 2n ** 63n - 1n;

/** The cursor of the page that continues after the event with this sequence. */
export function encodeCursor(sequence: bigint): string {
  return Buffer.from(`${PREFIX}${sequence}`, 'utf8').toString('base64url');
}

/** The sequence a cursor continues after, or undefined for anything encodeCursor did not produce. */
export function decodeCursor(cursor: string): bigint | undefined {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cursor)) return undefined;
  const match = /^v1:([1-9][0-9]{0,18})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) return undefined;
  const sequence = BigInt(match[1]);
  return sequence <= MAX_SEQUENCE ? sequence : undefined;
}
