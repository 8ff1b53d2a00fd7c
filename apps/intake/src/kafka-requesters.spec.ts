import type { Logger } from '@pinflow/logging';
import { CompactSign, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KafkaRequesters, RequesterTopics } from './kafka-requesters';

describe('KafkaRequesters from INTAKE_KAFKA_REQUESTERS_FILE', () => {
  const payload = Buffer.from('{"schemaVersion":1}');
  let directory: string;
  let file: string;
  const keys: Record<string, { privateKey: CryptoKey; publicKeyFile: string }> = {};
  let errors: unknown[];
  let changes: RequesterTopics[];
  let requesters: KafkaRequesters;

  const signed = async (requester: string) => {
    const [header, , signature] = (await new CompactSign(payload).setProtectedHeader({ alg: 'ES256', kid: `${requester}-1`, iss: requester }).sign(keys[requester].privateKey)).split('.');
    return `${header}..${signature}`;
  };
  const register = (list: Record<string, string[]>) =>
    writeFileSync(file, JSON.stringify(Object.fromEntries(Object.entries(list).map(([name, replyTopics]) => [name, { publicKeyFile: keys[name].publicKeyFile, replyTopics }]))));

  beforeAll(async () => {
    directory = mkdtempSync(path.join(os.tmpdir(), 'kafka-requesters-'));
    file = path.join(directory, 'requesters.json');
    for (const name of ['core-banking', 'card-lifecycle']) {
      const pair = await generateKeyPair('ES256', { extractable: true });
      const publicKeyFile = path.join(directory, `${name}.jwks.json`);
      writeFileSync(publicKeyFile, JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: `${name}-1` }] }));
      keys[name] = { privateKey: pair.privateKey, publicKeyFile };
    }
  });

  beforeEach(async () => {
    errors = [];
    changes = [];
    register({ 'core-banking': ['core-banking.answers'] });
    const logger = { info: () => undefined, error: (fields: unknown) => errors.push(fields) } as unknown as Logger;
    requesters = await KafkaRequesters.open({ INTAKE_KAFKA_REQUESTERS_FILE: file, INTAKE_KAFKA_REQUESTERS_RELOAD_INTERVAL_MS: 3_600_000, INTAKE_CARD_OWNERSHIP: 'open' }, logger);
    requesters.onChange(async (topics) => void changes.push(topics));
  });

  afterEach(() => requesters.close());

  it('takes a requester added to the file: its signatures verify, its topics are announced', async () => {
    await expect(requesters.verify(payload, await signed('card-lifecycle'))).rejects.toThrow(/no registered requester/);

    register({ 'core-banking': ['core-banking.answers'], 'card-lifecycle': [] });
    await requesters.reload();

    await expect(requesters.verify(payload, await signed('card-lifecycle'))).resolves.toBe('card-lifecycle');
    expect(changes).toEqual([{ requestTopics: ['pinflow.requests.core-banking.v1', 'pinflow.requests.card-lifecycle.v1'], replyTopics: ['core-banking.answers'] }]);
  });

  it('forgets a requester removed from the file: its signatures and reply topics no longer count', async () => {
    register({ 'card-lifecycle': [] });
    await requesters.reload();

    await expect(requesters.verify(payload, await signed('core-banking'))).rejects.toThrow(/no registered requester/);
    expect(requesters.mayReplyOn('core-banking', 'core-banking.answers')).toBe(false);
    expect(changes).toEqual([{ requestTopics: ['pinflow.requests.card-lifecycle.v1'], replyTopics: [] }]);
  });

  it('announces a reply topic added to a requester, so that intake creates it', async () => {
    register({ 'core-banking': ['core-banking.answers', 'core-banking.more-answers'] });
    await requesters.reload();

    expect(requesters.mayReplyOn('core-banking', 'core-banking.more-answers')).toBe(true);
    expect(changes).toEqual([{ requestTopics: ['pinflow.requests.core-banking.v1'], replyTopics: ['core-banking.answers', 'core-banking.more-answers'] }]);
  });

  it('reads a file that did not change as nothing new', async () => {
    await requesters.reload();

    expect(changes).toEqual([]);
    expect(errors).toEqual([]);
  });

  it.each([
    ['is not JSON', () => writeFileSync(file, '{"core-banking": ')],
    ['breaks the schema', () => writeFileSync(file, JSON.stringify({ 'core banking': { publicKeyFile: '/nowhere' } }))],
    ['names a key file that cannot be read', () => writeFileSync(file, JSON.stringify({ 'core-banking': { publicKeyFile: path.join(directory, 'missing.jwks.json') } }))],
  ])('keeps the requesters in use when the file %s, and logs why once', async (_case, spoil) => {
    spoil();
    await requesters.reload();
    await requesters.reload();

    await expect(requesters.verify(payload, await signed('core-banking'))).resolves.toBe('core-banking');
    expect(requesters.mayReplyOn('core-banking', 'core-banking.answers')).toBe(true);
    expect(changes).toEqual([]);
    expect(errors).toHaveLength(1);
  });

  describe('while card ownership is enforced', () => {
    const enforced = (logger: Logger) =>
      KafkaRequesters.open({ INTAKE_KAFKA_REQUESTERS_FILE: file, INTAKE_KAFKA_REQUESTERS_RELOAD_INTERVAL_MS: 3_600_000, INTAKE_CARD_OWNERSHIP: 'enforced' }, logger);
    const withTenants = (tenants: Record<string, string | undefined>) =>
      writeFileSync(file, JSON.stringify(Object.fromEntries(Object.entries(tenants).map(([name, tenant]) => [name, { publicKeyFile: keys[name].publicKeyFile, ...(tenant ? { tenant } : {}) }]))));

    it('refuses to start on a file whose requester names no tenant (it could act on no card)', async () => {
      withTenants({ 'core-banking': 'acme', 'card-lifecycle': undefined });

      await expect(enforced({ info: () => undefined, error: () => undefined } as unknown as Logger)).rejects.toThrow(/card-lifecycle\.tenant: required while card ownership is enforced/);
    });

    it("keeps the requesters in use when a reload adds one without a tenant, and acts for each requester's tenant", async () => {
      withTenants({ 'core-banking': 'acme' });
      const refusals: unknown[] = [];
      const owned = await enforced({ info: () => undefined, error: (fields: unknown) => refusals.push(fields) } as unknown as Logger);
      try {
        withTenants({ 'core-banking': 'acme', 'card-lifecycle': undefined });
        await owned.reload();

        await expect(owned.verify(payload, await signed('card-lifecycle'))).rejects.toThrow(/no registered requester/);
        expect(owned.tenantOf('core-banking')).toBe('acme');
        expect(refusals).toHaveLength(1);
      } finally {
        owned.close();
      }
    });
  });
});
