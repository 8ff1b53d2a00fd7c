import { connect } from 'node:net';

/** An HTTP answer as it came off the wire. */
export interface RawHttpAnswer {
  status: number;
  /** The status line and header lines, as sent. */
  head: string;
  body: string;
}

/** How long a server that neither answers nor closes the connection is waited for. */
const ANSWER_TIMEOUT_MS = 10_000;

/**
 * Sends exactly these bytes over a fresh connection and returns what the server answered before it
 * closed: hostile requests (two Content-Lengths, a broken chunk, a lying charset) do not go through a
 * well-behaved HTTP client. `head` lines may end in \n; they are sent as \r\n. Send `connection: close`
 * (or something the server refuses outright), so that the server closes the connection.
 */
export function sendRawHttp(url: string, head: string, body: Buffer | string = ''): Promise<RawHttpAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    // Written, not ended: Node's server takes a half-closed connection for an aborted request and drops its answer.
    const socket = connect(Number(port), hostname, () => socket.write(Buffer.concat([Buffer.from(head.replace(/\r?\n/g, '\r\n') + '\r\n'), Buffer.from(body)])));
    socket.setTimeout(ANSWER_TIMEOUT_MS, () => socket.destroy());
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const [answerHead, ...rest] = Buffer.concat(chunks).toString('latin1').split('\r\n\r\n');
      resolve({ status: Number(answerHead.split(' ')[1]), head: answerHead, body: rest.join('\r\n\r\n') });
    });
  });
}

/** A POST with these headers (Content-Type JSON and the body's Content-Length unless overridden), on a connection closed after it. */
export function postRaw(url: string, headers: Record<string, string | number>, body: Buffer | string): Promise<RawHttpAnswer> {
  const { pathname } = new URL(url);
  const all = { host: 'localhost', connection: 'close', 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers };
  const lines = Object.entries(all).map(([name, value]) => `${name}: ${value}`);
  return sendRawHttp(url, [`POST ${pathname} HTTP/1.1`, ...lines, ''].join('\n'), body);
}
