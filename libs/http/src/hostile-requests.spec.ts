import { Body, Controller, Get, Header, HttpCode, Logger, Module, Post } from '@nestjs/common';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { postRaw, sendRawHttp } from '@pinflow/testing';
import { z } from 'zod';
import { httpLoggerModule } from './bootstrap';
import { servedForSpecs } from './http-app.spec-support';
import { ZodValidationPipe } from './zod-pipe';

const changePinBody = z.strictObject({ pin: z.string() });

@Controller('cards/:cardId')
class CardsController {
  @Post('pin')
  @HttpCode(202)
  changePin(@Body(new ZodValidationPipe(changePinBody)) body: z.output<typeof changePinBody>): { accepted: boolean } {
    return { accepted: body.pin.length > 0 };
  }

  @Post('tries/reset')
  @HttpCode(204)
  resetTries(): void {}
}

@Controller('public-key')
class PublicKeyController {
  @Get()
  @Header('Cache-Control', 'public, max-age=300')
  key(): { kid: string } {
    return { kid: 'k1' };
  }
}

@Module({ imports: [httpLoggerModule('spec', 'silent')], controllers: [CardsController, PublicKeyController] })
class CardsModule {}

const JSON_BODY = '{"pin":"8264"}';

describe('an app made by createHttpApp, given hostile requests', () => {
  const served = servedForSpecs(CardsModule);
  let errorLogs: jest.SpyInstance;

  beforeEach(() => {
    errorLogs = jest.spyOn(Logger.prototype, 'error');
  });

  afterEach(() => {
    // A refused request is an answer, not a fault: nothing for an operator to look at.
    expect(errorLogs).not.toHaveBeenCalled();
    errorLogs.mockRestore();
  });

  it('accepts a well-formed request, so the refusals below are about what makes them hostile; no cache may keep the answer', async () => {
    const answer = await postRaw(`${served.base}/cards/card-1/pin`, {}, JSON_BODY);

    expect(answer).toMatchObject({ status: 202, body: '{"accepted":true}' });
    expect(answer.head).toMatch(/cache-control: no-store/i);
  });

  it('takes a POST without content and without Content-Type, as a body-less action is sent', async () => {
    const answer = await sendRawHttp(served.base, 'POST /cards/card-1/tries/reset HTTP/1.1\nhost: localhost\ncontent-length: 0\nconnection: close\n');

    expect(answer.status).toBe(204);
  });

  it('lets a handler that serves public data say how long it may be cached', async () => {
    const answer = await sendRawHttp(served.base, 'GET /public-key HTTP/1.1\nhost: localhost\nconnection: close\n');

    expect(answer.status).toBe(200);
    expect(answer.head).toMatch(/cache-control: public, max-age=300/i);
  });

  const gzipBomb = gzipSync(Buffer.from(`{"pin":"${'0'.repeat(10_000_000)}"}`));

  it.each<[string, Record<string, string | number>, Buffer | string, number, string]>([
    ['a body over 32 kB', {}, `{"pin":"${'7'.repeat(40_000)}"}`, 413, 'PAYLOAD_TOO_LARGE'],
    ['charset=latin1', { 'content-type': 'application/json; charset=latin1' }, JSON_BODY, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['charset=iso-8859-1', { 'content-type': 'application/json; charset=iso-8859-1' }, JSON_BODY, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a charset no decoder knows', { 'content-type': 'application/json; charset=utf-99' }, JSON_BODY, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a gzipped body', { 'content-encoding': 'gzip' }, gzipSync(JSON_BODY), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a gzip bomb (10 MB in 10 kB)', { 'content-encoding': 'gzip' }, gzipBomb, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a deflated body', { 'content-encoding': 'deflate' }, deflateSync(JSON_BODY), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a brotli body', { 'content-encoding': 'br' }, brotliCompressSync(JSON_BODY), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a plain body labelled gzip', { 'content-encoding': 'gzip' }, JSON_BODY, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['Content-Encoding: compress', { 'content-encoding': 'compress' }, JSON_BODY, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['Content-Encoding: gzip, gzip', { 'content-encoding': 'gzip, gzip' }, gzipSync(gzipSync(JSON_BODY)), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['Content-Encoding: identity, gzip', { 'content-encoding': 'identity, gzip' }, gzipSync(JSON_BODY), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['malformed JSON', {}, '{"pin":', 400, 'MALFORMED_JSON'],
    ['JSON that is not an object', {}, '"8264"', 400, 'MALFORMED_JSON'],
    ['a JSON body labelled text/plain', { 'content-type': 'text/plain' }, JSON_BODY, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a form', { 'content-type': 'application/x-www-form-urlencoded' }, 'pin=8264', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a body with an empty Content-Type', { 'content-type': '' }, JSON_BODY, 415, 'UNSUPPORTED_MEDIA_TYPE'],
  ])('answers %s with a problem document', async (_case, headers, body, status, code) => {
    const answer = await postRaw(`${served.base}/cards/card-1/pin`, headers, body);

    expect(answer.status).toBe(status);
    expect(answer.head).toMatch(/content-type: application\/problem\+json/i);
    expect(answer.head).toMatch(/cache-control: no-store/i);
    expect(JSON.parse(answer.body)).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String) });
    expect(answer.body).not.toContain('8264');
  });

  it.each<[string, string, string, number, string]>([
    ['headers over 16 kB', `POST /cards/card-1/pin HTTP/1.1\nhost: localhost\nx-padding: ${'a'.repeat(20_000)}\ncontent-length: 14\n`, JSON_BODY, 431, 'REQUEST_HEADER_FIELDS_TOO_LARGE'],
    ['two different Content-Lengths', 'POST /cards/card-1/pin HTTP/1.1\nhost: localhost\ncontent-type: application/json\ncontent-length: 14\ncontent-length: 4\n', JSON_BODY, 400, 'MALFORMED_REQUEST'],
    ['Content-Length with Transfer-Encoding', 'POST /cards/card-1/pin HTTP/1.1\nhost: localhost\ncontent-type: application/json\ncontent-length: 14\ntransfer-encoding: chunked\n', `e\r\n${JSON_BODY}\r\n0\r\n\r\n`, 400, 'MALFORMED_REQUEST'],
    ['a broken chunked body', 'POST /cards/card-1/pin HTTP/1.1\nhost: localhost\ncontent-type: application/json\ntransfer-encoding: chunked\n', `zz\r\n${JSON_BODY}\r\n0\r\n\r\n`, 400, 'MALFORMED_REQUEST'],
    ['a request line that is not HTTP', 'GET /cards HTTP/9 nonsense\n', '', 400, 'MALFORMED_REQUEST'],
  ])("answers a request Node's HTTP parser refuses (%s) with a problem document, and closes the connection", async (_case, head, body, status, code) => {
    const answer = await sendRawHttp(served.base, head, body);

    expect(answer.status).toBe(status);
    expect(answer.head).toMatch(/content-type: application\/problem\+json/i);
    expect(answer.head).toMatch(/connection: close/i);
    expect(JSON.parse(answer.body)).toMatchObject({ status, code });
  });
});
