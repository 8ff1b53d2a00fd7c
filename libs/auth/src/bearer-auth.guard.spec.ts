import { HttpException, Logger, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createLocalJWKSet } from 'jose';
import { BearerAuthGuard, type AuthenticatedRequest, type AuthProblem } from './bearer-auth.guard';
import { RequireScopes } from './decorators';
import { generateDevSigningKey, mintToken, type DevSigningKey } from './dev-keys';
import { JwtVerifier } from './jwt-verifier';
import { PIN_READ_SCOPE, PIN_WRITE_SCOPE } from './scopes';

const ISSUER = 'pinflow-dev';
const AUDIENCE = 'pinflow';

@RequireScopes(PIN_READ_SCOPE)
class CardsController {
  list(): void {}

  @RequireScopes(PIN_WRITE_SCOPE)
  changePin(): void {}
}

let key: DevSigningKey;
let guard: BearerAuthGuard;

beforeAll(async () => {
  key = await generateDevSigningKey();
  const verifier = new JwtVerifier(createLocalJWKSet({ keys: [key.publicJwk] }), { issuer: ISSUER, audience: AUDIENCE });
  guard = new BearerAuthGuard(verifier, new Reflector());
});

function token(scopes: string[], expiresIn = '5m'): Promise<string> {
  return mintToken({ privateKey: key.privateJwk, kid: key.kid, issuer: ISSUER, audience: AUDIENCE, subject: 'backoffice', scopes, expiresIn });
}

function httpCall(handler: () => void, authorization?: string) {
  const request = { headers: authorization === undefined ? {} : { authorization } } as AuthenticatedRequest;
  const headers: Record<string, string> = {};
  const response = { header: (name: string, value: string) => (headers[name.toLowerCase()] = value) };
  const context = {
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => response }),
    getHandler: () => handler,
    getClass: () => CardsController,
  } as unknown as ExecutionContext;
  return { context, request, headers };
}

async function refusal(call: ReturnType<typeof httpCall>): Promise<{ status: number; body: AuthProblem }> {
  const error: unknown = await guard.canActivate(call.context).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof HttpException)) throw new Error(`expected an HttpException, got ${String(error)}`);
  return { status: error.getStatus(), body: error.getResponse() as AuthProblem };
}

describe('BearerAuthGuard', () => {
  it('admits a token holding the required scopes and attaches its principal to the request', async () => {
    const call = httpCall(CardsController.prototype.list, `Bearer ${await token([PIN_READ_SCOPE])}`);

    expect(await guard.canActivate(call.context)).toBe(true);
    expect(call.request.principal).toEqual({ subject: 'backoffice', scopes: new Set([PIN_READ_SCOPE]) });
  });

  it('accepts the scheme name in any case', async () => {
    const call = httpCall(CardsController.prototype.list, `bearer ${await token([PIN_READ_SCOPE])}`);

    expect(await guard.canActivate(call.context)).toBe(true);
  });

  it.each([
    ['no Authorization header', undefined],
    ['another scheme', 'Basic YmFja29mZmljZTpzZWNyZXQ='],
    ['an empty bearer token', 'Bearer '],
  ])('answers 401 TOKEN_MISSING to a request with %s', async (_, authorization) => {
    const call = httpCall(CardsController.prototype.list, authorization);

    expect(await refusal(call)).toEqual({
      status: 401,
      body: {
        type: 'https://pinflow.dev/problems/unauthorized',
        title: 'Unauthorized',
        status: 401,
        detail: 'A bearer access token is required in the Authorization header.',
        code: 'TOKEN_MISSING',
      },
    });
    expect(call.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });

  it.each([
    ['an expired token', () => token([PIN_READ_SCOPE], '-1h'), 'TOKEN_EXPIRED', 'The access token has expired.'],
    ['a token with a forged signature', async () => `${(await token([PIN_READ_SCOPE])).slice(0, -4)}AAAA`, 'TOKEN_INVALID', 'The access token is invalid.'],
  ])('answers 401 to %s', async (_, makeToken, code, detail) => {
    const call = httpCall(CardsController.prototype.list, `Bearer ${await makeToken()}`);

    const { status, body } = await refusal(call);

    expect({ status, code: body.code, detail: body.detail }).toEqual({ status: 401, code, detail });
    expect(call.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(call.request.principal).toBeUndefined();
  });

  it('answers 403 INSUFFICIENT_SCOPE to a valid token without the required scope', async () => {
    const call = httpCall(CardsController.prototype.list, `Bearer ${await token([PIN_WRITE_SCOPE])}`);

    expect(await refusal(call)).toEqual({
      status: 403,
      body: {
        type: 'https://pinflow.dev/problems/forbidden',
        title: 'Forbidden',
        status: 403,
        detail: 'The access token lacks the required scope(s): pin:read.',
        code: 'INSUFFICIENT_SCOPE',
      },
    });
    expect(call.headers['www-authenticate']).toBe('Bearer error="insufficient_scope"');
    expect(call.request.principal).toBeUndefined();
  });

  it('requires the controller’s scopes on top of the handler’s', async () => {
    const writeOnly = httpCall(CardsController.prototype.changePin, `Bearer ${await token([PIN_WRITE_SCOPE])}`);
    const both = httpCall(CardsController.prototype.changePin, `Bearer ${await token([PIN_WRITE_SCOPE, PIN_READ_SCOPE])}`);

    expect((await refusal(writeOnly)).body.detail).toBe('The access token lacks the required scope(s): pin:read.');
    expect(await guard.canActivate(both.context)).toBe(true);
  });

  it("answers 503 TEMPORARILY_UNAVAILABLE, not 401 or 500, while the issuer's keys cannot be fetched", async () => {
    const keysDown = new JwtVerifier(
      async () => {
        throw new TypeError('fetch failed');
      },
      { issuer: ISSUER, audience: AUDIENCE },
    );
    const guardWithoutKeys = new BearerAuthGuard(keysDown, new Reflector());
    const warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const call = httpCall(CardsController.prototype.list, `Bearer ${await token([PIN_READ_SCOPE])}`);

    const error: unknown = await guardWithoutKeys.canActivate(call.context).catch((thrown: unknown) => thrown);

    expect(error).toBeInstanceOf(HttpException);
    expect((error as HttpException).getStatus()).toBe(503);
    expect((error as HttpException).getResponse()).toMatchObject({ status: 503, code: 'TEMPORARILY_UNAVAILABLE' });
    expect(call.request.principal).toBeUndefined();
    // The operator hears of it: every request with a token fails until the keys are back.
    expect(warnings).toHaveBeenCalled();
    warnings.mockRestore();
  });
});
