import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseVendorBody, VendorError } from './vendor-error';
import { correlationIdOf, isVendorPath } from './vendor-http';

function request(headers: Record<string, string> = {}): FastifyRequest {
  return { headers } as unknown as FastifyRequest;
}

describe('parseVendorBody', () => {
  const schema = z.object({ pin: z.string({ error: 'pin must be a string' }), sync: z.boolean({ error: 'sync must be a boolean' }).optional() });

  it('passes a valid body on, parsed', () => {
    expect(parseVendorBody(schema, { pin: '4821', extra: 1 })).toEqual({ pin: '4821' });
  });

  it('refuses an invalid body with a 400 naming the rules and the first field at fault, never the values', () => {
    const refusal = (() => {
      try {
        parseVendorBody(schema, { pin: 4821, sync: 'yes' });
      } catch (error) {
        return error as VendorError;
      }
    })();
    expect(refusal).toBeInstanceOf(VendorError);
    expect(refusal).toMatchObject({ status: 400, code: 'INVALID_BODY', message: 'pin must be a string; sync must be a boolean', field: 'pin' });
    expect(refusal?.message).not.toContain('4821');
  });
});

describe('correlationIdOf', () => {
  it("takes the vendor's header when it is sane, whatever its case, and keeps one value per request", () => {
    const given = request({ 'x-cid': 'abc-123' });
    expect(correlationIdOf(given, 'X-Cid')).toBe('abc-123');
    const madeUp = request();
    expect(correlationIdOf(madeUp, 'x-cid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(correlationIdOf(madeUp, 'x-cid')).toBe(correlationIdOf(madeUp, 'x-cid'));
  });

  it('makes one up for a header that is too long or holds odd characters, or a vendor without one', () => {
    expect(correlationIdOf(request({ 'x-cid': 'a'.repeat(129) }), 'x-cid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(correlationIdOf(request({ 'x-cid': 'a b' }), 'x-cid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(correlationIdOf(request({ 'x-cid': 'abc' }))).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('isVendorPath', () => {
  it("leaves the sandbox's hooks and health probes out, and counts every other path as the vendor's", () => {
    expect(isVendorPath('/sandbox/knobs')).toBe(false);
    expect(isVendorPath('/health/ready')).toBe(false);
    expect(isVendorPath('/v2/card/rsa-public-key')).toBe(true);
    expect(isVendorPath('/sandboxed/thing')).toBe(true);
  });
});
