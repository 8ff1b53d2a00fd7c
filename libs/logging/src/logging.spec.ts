import pino from 'pino';
import { Writable } from 'node:stream';
import { loggerOptions, redactLine } from './index';

function capture(): { lines: string[]; logger: pino.Logger } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: pino(loggerOptions('spec', 'debug'), sink) };
}

const deeply = (depth: number, leaf: Record<string, unknown>): Record<string, unknown> => (depth === 0 ? leaf : { level: deeply(depth - 1, leaf) });

describe('service logs', () => {
  it.each([
    ['a clear PIN', { pin: '739146' }],
    ['a nested PIN', { command: { body: { pin: '739146' } } }],
    ['a PIN eight levels down', deeply(8, { newPin: '739146' })],
    ['a PIN thirty levels down', deeply(30, { pin: '739146' })],
    ['a PIN in an array', { commands: [{ ok: true }, { encryptedPin: 'eyJ.739146' }] }],
    ['an encrypted PIN', { command: { encryptedPin: 'eyJ.739146' } }],
    ['a passcode', { request: { passCode: '739146' } }],
    ['a PIN block', { pinBlock: '0412739146FFFFFF' }],
    ['a PAN', { card: { pan: '4761739146010119' } }],
    ["Vault's one-time code", { body: { passcode: 'x', code: '739146' } }],
    ['a one-time code', { oneTimeCode: '739146' }],
    ['a client secret', { credentials: { clientSecret: '739146' } }],
    ['an OAuth client_secret', { form: { grant_type: 'client_credentials', client_secret: '739146' } }],
    ['an access token', { answer: { access_token: 'eyJ739146' } }],
    ['a bearer token', { req: { headers: { authorization: 'Bearer 739146' } } }],
    ['a private RSA JWK', { key: { kty: 'RSA', n: 'public', e: 'AQAB', d: '739146', p: '739146', q: '739146', dp: '739146', dq: '739146', qi: '739146' } }],
    ['a symmetric JWK', { jwks: { keys: [{ kty: 'oct', k: '739146' }] } }],
    ['a PIN on an error', { err: Object.assign(new Error('vendor refused'), { pin: '739146' }) }],
    ['a PIN in an error a vendor answer carries', { failure: { cause: Object.assign(new Error('bad'), { response: { data: { pin: '739146' } } }) } }],
  ])('redact %s wherever it sits in a logged object', (_what, fields) => {
    const { lines, logger } = capture();
    logger.info(fields, 'handled');
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('739146');
    expect(lines[0]).toContain('[REDACTED]');
  });

  it("redact a child logger's bindings too", () => {
    const { lines, logger } = capture();
    logger.child({ command: { cardId: 'card-1', encryptedPin: 'eyJ.739146' } }).info('handling');
    expect(lines[0]).not.toContain('739146');
    expect(JSON.parse(lines[0])).toMatchObject({ command: { cardId: 'card-1', encryptedPin: '[REDACTED]' } });
  });

  it("keep an error's own code (ECONNREFUSED names its kind) while redacting a code in what it carries", () => {
    const { lines, logger } = capture();
    logger.warn({ err: Object.assign(new Error('connect failed'), { code: 'ECONNREFUSED', request: { code: '739146' } }) }, 'vendor down');
    expect(JSON.parse(lines[0]).err).toMatchObject({ type: 'Error', message: 'connect failed', code: 'ECONNREFUSED', request: { code: '[REDACTED]' } });
  });

  it('are JSON lines naming the service, with the fields that are not secret intact beside the ones that are redacted', () => {
    const { lines, logger } = capture();
    logger.info(
      { cardId: 'card-1', commandId: 'c-1', blockFormat: 'ISO0', command: { keyId: 'k1', kid: 'pin-1', pinBlock: '0412AC89', encryptedPinBlock: 'eyJ.0412AC89' } },
      'called vendor',
    );
    expect(lines[0]).not.toContain('0412AC89');
    expect(JSON.parse(lines[0])).toMatchObject({
      level: 'info',
      service: 'spec',
      cardId: 'card-1',
      commandId: 'c-1',
      blockFormat: 'ISO0',
      command: { keyId: 'k1', kid: 'pin-1', pinBlock: '[REDACTED]', encryptedPinBlock: '[REDACTED]' },
      msg: 'called vendor',
    });
  });
});

describe('redactLine', () => {
  it('redacts a line pino wrote, keeping it one JSON line', () => {
    expect(redactLine('{"level":"info","command":{"cardId":"card-1","pin":"739146"}}\n')).toBe('{"level":"info","command":{"cardId":"card-1","pin":"[REDACTED]"}}\n');
  });

  it('withholds a line that is not JSON rather than write what it cannot inspect', () => {
    expect(redactLine('pin=739146\n')).not.toContain('739146');
  });
});

describe('a field named like a PIN block', () => {
  it.each(['pinBlockType', 'pinBlockFormat', 'clearPinBlock', 'pin_block_hex', 'PINBLOCK'])('is redacted wherever it sits, whatever it holds: %s', (name) => {
    const line = redactLine(JSON.stringify({ level: 'info', type: 'ISO0', command: { [name]: '0412AC89ABCDEF67' } }));
    expect(line).not.toContain('0412AC89ABCDEF67');
    expect(JSON.parse(line).command[name]).toBe('[REDACTED]');
  });
});
