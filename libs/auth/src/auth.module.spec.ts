import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AuthModule } from './auth.module';
import { Principal, RequireScopes } from './decorators';
import { loadOrCreateDevSigningKey, mintToken, type DevSigningKey } from './dev-keys';
import type { AuthenticatedPrincipal } from './jwt-verifier';
import { PIN_READ_SCOPE, PIN_WRITE_SCOPE } from './scopes';

const ISSUER = 'pinflow-dev';
const AUDIENCE = 'pinflow';
/** Per caller and minute: more than the other tests send as one caller, few enough to exceed quickly. */
const RATE_LIMIT = 5;

@Controller('requests')
class RequestsController {
  @Get()
  @RequireScopes(PIN_READ_SCOPE)
  list(@Principal() principal: AuthenticatedPrincipal) {
    return { subject: principal.subject, scopes: [...principal.scopes] };
  }

  @Get('unguarded')
  unguarded(@Principal() principal: AuthenticatedPrincipal) {
    return principal;
  }
}

// A feature module apart from AuthModule, as in the services: its guards must still find the verifier.
@Module({ controllers: [RequestsController] })
class RequestsModule {}

let dir: string;
let key: DevSigningKey;
let app: INestApplication;
let baseUrl: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'auth-module-'));
  const devKey = await loadOrCreateDevSigningKey(path.join(dir, 'dev-signing-key.json'));
  key = devKey.key;

  @Module({
    imports: [
      AuthModule.forRoot({ AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, AUTH_PUBLIC_KEY_FILE: devKey.publicKeyFile, AUTH_RATE_LIMIT: RATE_LIMIT, AUTH_RATE_LIMIT_WINDOW_MS: 60_000 }),
      RequestsModule,
    ],
  })
  class AppModule {}

  app = await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false });
  await app.listen(0, '127.0.0.1');
  baseUrl = await app.getUrl();
});

afterAll(async () => {
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

async function get(route: string, scopes?: string[], caller: { subject: string; tenant?: string } = { subject: 'backoffice' }): Promise<Response> {
  const headers: Record<string, string> = {};
  if (scopes) {
    const token = await mintToken({ privateKey: key.privateJwk, kid: key.kid, issuer: ISSUER, audience: AUDIENCE, ...caller, scopes, expiresIn: '5m' });
    headers.authorization = `Bearer ${token}`;
  }
  return fetch(`${baseUrl}${route}`, { headers });
}

describe('@RequireScopes and @Principal in a Nest application', () => {
  it('hands the authenticated principal to the handler', async () => {
    const response = await get('/requests', [PIN_READ_SCOPE]);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ subject: 'backoffice', scopes: [PIN_READ_SCOPE] });
  });

  it('answers 401 with the problem body and the WWW-Authenticate challenge', async () => {
    const response = await get('/requests');

    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(await response.json()).toMatchObject({ type: 'https://pinflow.dev/problems/unauthorized', status: 401, code: 'TOKEN_MISSING' });
  });

  it('answers 403 when the token lacks the scope', async () => {
    const response = await get('/requests', [PIN_WRITE_SCOPE]);

    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"');
    expect(await response.json()).toMatchObject({ type: 'https://pinflow.dev/problems/forbidden', status: 403, code: 'INSUFFICIENT_SCOPE' });
  });

  it('fails loudly when @Principal() is read on a route nothing authenticated', async () => {
    const response = await get('/requests/unguarded', [PIN_READ_SCOPE]);

    expect(response.status).toBe(500);
  });
});

describe('the per-caller rate limit', () => {
  it('answers 429 RATE_LIMITED with Retry-After once a caller exceeds its limit, and only that caller', async () => {
    const greedy = { subject: 'greedy-backend', tenant: 'acme' };
    for (let sent = 0; sent < RATE_LIMIT; sent += 1) expect((await get('/requests', [PIN_READ_SCOPE], greedy)).status).toBe(200);

    const refused = await get('/requests', [PIN_READ_SCOPE], greedy);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.json()).toMatchObject({ type: 'https://pinflow.dev/problems/rate-limited', status: 429, code: 'RATE_LIMITED' });

    // Its tenant-mates, counted apart, are still served.
    expect((await get('/requests', [PIN_READ_SCOPE], { subject: 'modest-backend', tenant: 'acme' })).status).toBe(200);
  });
});
