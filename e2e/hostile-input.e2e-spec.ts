import { randomUUID } from 'node:crypto';
import { commandTopic, VENDORS } from '@pinflow/contracts';
import { postRaw, sendRawHttp, type RawHttpAnswer } from '@pinflow/testing';
import { gzipSync, deflateSync } from 'node:zlib';
import { errorLogLines, http, messagesCausedBy, startSuite, Suite } from './support';

/** The one caller of this suite, so that its commands (there must be none) can be told from other suites'. */
const HOSTILE_CALLER = 'hostile-input-client';

/**
 * What a hostile client gets from a running intake (its own process, on the real database and
 * broker): a 4xx problem document for every trick, never a 5xx, and no command published.
 */
describe('intake given hostile requests', () => {
  let suite: Suite;
  let intake: string;

  const WRITE_PATHS = [
    '/v1/pismo/cards/card-1/pin',
    '/v1/pismo/cards/card-1/password-tries/increase',
    '/v1/solaris/cards/card-1/pin',
    '/v1/thales-d1/issuers/ISSUER0001/cards/card-1/pin',
    '/v1/vault/cards/4242/passcode',
  ];
  const BODY = '{"encryptedPin":"a.b.c.d.e"}';
  const answers: Array<[string, RawHttpAnswer]> = [];

  /** A hostile request's answer, kept for the suite-wide checks at the end. */
  async function answered(what: string, answer: Promise<RawHttpAnswer>): Promise<RawHttpAnswer> {
    const result = await answer;
    answers.push([what, result]);
    return result;
  }

  const post = (path: string, headers: Record<string, string | number>, body: Buffer | string) =>
    answered(`POST ${path} ${JSON.stringify(headers)}`, postRaw(`${intake}${path}`, { authorization: `Bearer ${suite.writeToken}`, 'idempotency-key': randomUUID(), ...headers }, body));

  function expectProblem(answer: RawHttpAnswer, status: number, code: string): void {
    expect(answer.status).toBe(status);
    expect(answer.head).toMatch(/content-type: application\/problem\+json/i);
    expect(JSON.parse(answer.body)).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String) });
  }

  beforeAll(async () => {
    suite = await startSuite({ apps: ['intake', 'audit'], writer: HOSTILE_CALLER, topics: VENDORS.map(commandTopic) });
    intake = suite.stack.urls.intake;
  }, 180_000);

  afterAll(() => suite?.stop(), 60_000);

  describe.each(WRITE_PATHS)('POST %s', (path) => {
    it.each<[string, Record<string, string | number>, Buffer | string, number, string]>([
      ['a body over 32 kB', {}, `{"encryptedPin":"${'A'.repeat(40_000)}"}`, 413, 'PAYLOAD_TOO_LARGE'],
      ['charset=latin1', { 'content-type': 'application/json; charset=latin1' }, BODY, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['charset=iso-8859-1', { 'content-type': 'application/json; charset=iso-8859-1' }, BODY, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['a gzip bomb', { 'content-encoding': 'gzip' }, gzipSync(Buffer.alloc(20_000_000, 0x20)), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['a deflate bomb', { 'content-encoding': 'deflate' }, deflateSync(Buffer.alloc(20_000_000, 0x20)), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['a plain body labelled gzip', { 'content-encoding': 'gzip' }, BODY, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['Content-Encoding: compress', { 'content-encoding': 'compress' }, BODY, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['Content-Encoding: gzip, gzip', { 'content-encoding': 'gzip, gzip' }, gzipSync(gzipSync(BODY)), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['malformed JSON', {}, '{"encryptedPin":', 400, 'MALFORMED_JSON'],
      ['a JSON body labelled text/plain', { 'content-type': 'text/plain' }, BODY, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ])('answers %s with a problem document', async (_case, headers, body, status, code) => {
      expectProblem(await post(path, headers, body), status, code);
    });
  });

  /** A body of the right shape for each vendor, so that only the path can be at fault. */
  const JWE = 'a.b.c.d.e';
  const WELL_FORMED = {
    pismo: { encryptedPin: JWE },
    solaris: { deviceId: 'device-1', encryptedPin: JWE, keyId: 'key-1', signature: 'sig' },
    'thales-d1': { pinBlockFormat: 'ISO0', encryptedPin: JWE, encryptedPan: JWE },
    vault: { encryptedPasscode: JWE, encryptedCode: JWE },
  };
  const postWellFormed = (path: string, vendor: keyof typeof WELL_FORMED) => post(path, {}, JSON.stringify(WELL_FORMED[vendor]));

  function expectRefusedPart(answer: RawHttpAnswer, part: string): void {
    expectProblem(answer, 400, 'VALIDATION_FAILED');
    expect(JSON.parse(answer.body).detail).toBe(`The ${part} is invalid.`);
  }

  it.each([
    ['a slash', 'ISSUE%2F0001'],
    ['a parent step', '..%2FISSUE01'],
    ['a NUL', 'ISSUER%00001'],
    ['CR/LF', 'ISSUER%0D%0A01'],
    ['a question mark', 'ISSUER%3F001'],
    ['a hash', 'ISSUER%23001'],
    ['a space', 'ISSUER%20001'],
    ['non-ASCII', 'ISSU%C3%89R0001'],
  ])('refuses a Thales D1 issuer id of 10 characters with %s: 400 VALIDATION_FAILED', async (_case, issuerId) => {
    expectRefusedPart(await postWellFormed(`/v1/thales-d1/issuers/${issuerId}/cards/card-1/pin`, 'thales-d1'), 'issuer id');
  });

  it.each(['card%2F1', '..%2Fcard', 'card%00', 'card%0D%0A1', 'card%3F1', 'card%23', 'card%20one', 'k%C3%A1rtya', 'a'.repeat(65)])('refuses the card id %s on every vendor: 400', async (cardId) => {
    expectRefusedPart(await postWellFormed(`/v1/pismo/cards/${cardId}/pin`, 'pismo'), 'card id');
    expectRefusedPart(await postWellFormed(`/v1/solaris/cards/${cardId}/pin`, 'solaris'), 'card account id');
    expectRefusedPart(await postWellFormed(`/v1/thales-d1/issuers/ISSUER0001/cards/${cardId}/pin`, 'thales-d1'), 'card id');
    expectRefusedPart(await postWellFormed(`/v1/vault/cards/${cardId}/passcode`, 'vault'), 'card id');
  });

  it.each(['9223372036854775808', '9999999999999999999', '18446744073709551616', '0', '-1', '01'])('refuses the Vault card id %s, outside positive int64', async (cardId) => {
    expectRefusedPart(await postWellFormed(`/v1/vault/cards/${cardId}/passcode`, 'vault'), 'card id');
  });

  it('takes 9223372036854775807, int64 max, as a Vault card id, and goes on to open the passcode', async () => {
    expectProblem(await postWellFormed('/v1/vault/cards/9223372036854775807/passcode', 'vault'), 400, 'PASSCODE_UNDECRYPTABLE');
  });

  it.each<[string, string, string, number, string]>([
    ['headers over 16 kB', `POST /v1/pismo/cards/card-1/pin HTTP/1.1\nhost: localhost\nx-padding: ${'a'.repeat(20_000)}\ncontent-length: 2\n`, '{}', 431, 'REQUEST_HEADER_FIELDS_TOO_LARGE'],
    ['two Content-Lengths', 'POST /v1/pismo/cards/card-1/pin HTTP/1.1\nhost: localhost\ncontent-length: 2\ncontent-length: 3\n', '{}', 400, 'MALFORMED_REQUEST'],
    ['Content-Length with Transfer-Encoding', 'POST /v1/pismo/cards/card-1/pin HTTP/1.1\nhost: localhost\ncontent-length: 2\ntransfer-encoding: chunked\n', '2\r\n{}\r\n0\r\n\r\n', 400, 'MALFORMED_REQUEST'],
  ])("answers a request Node's HTTP parser refuses (%s) with a problem document", async (what, head, body, status, code) => {
    expectProblem(await answered(what, sendRawHttp(intake, head, body)), status, code);
  });

  it('sends request status and audit answers, found or not, with Cache-Control: no-store', async () => {
    const readToken = suite.readToken;
    for (const url of [`${intake}/v1/requests/00000000-0000-4000-8000-000000000000`, `${suite.stack.urls.audit}/v1/cards/card-1/events`, `${suite.stack.urls.audit}/v1/requests/not-a-uuid/events`]) {
      const answer = await http('GET', url, { token: readToken });
      expect(answer.status).toBeLessThan(500);
      expect(answer.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('answered every hostile request with a 4xx, published no command, and logged no error', async () => {
    expect(answers.filter(([, answer]) => !(answer.status >= 400 && answer.status < 500)).map(([what, answer]) => `${what} → ${answer.status}`)).toEqual([]);
    expect(answers.length).toBeGreaterThan(80);
    expect(messagesCausedBy(suite, HOSTILE_CALLER)).toEqual([]);
    expect(errorLogLines(suite.stack)).toEqual([]);
  });
});
