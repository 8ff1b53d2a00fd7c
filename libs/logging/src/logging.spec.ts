import pino from 'pino';
import { Writable } from 'node:stream';
import { loggerOptions } from './index';

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

describe('service logs', () => {
  it.each([
    ['a clear PIN', { pin: '739146' }],
    ['a nested PIN', { command: { body: { pin: '739146' } } }],
    ['an encrypted PIN', { command: { encryptedPin: 'eyJ.739146' } }],
    ['a passcode', { request: { passCode: '739146' } }],
    ['a PIN block', { pinBlock: '0412739146FFFFFF' }],
    ['a bearer token', { req: { headers: { authorization: 'Bearer 739146' } } }],
  ])('redact %s wherever it sits in a logged object', (_what, fields) => {
    const { lines, logger } = capture();
    logger.info(fields, 'handled');
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('739146');
    expect(lines[0]).toContain('[REDACTED]');
  });

  it('are JSON lines naming the service, with the fields that are not secret intact', () => {
    const { lines, logger } = capture();
    logger.info({ cardId: 'card-1', commandId: 'c-1' }, 'called vendor');
    expect(JSON.parse(lines[0])).toMatchObject({ level: 'info', service: 'spec', cardId: 'card-1', commandId: 'c-1', msg: 'called vendor' });
  });
});
