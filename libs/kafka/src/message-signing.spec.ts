import { ConfigError, loadConfig } from '@pinflow/config';
import { commandTopic, EVENT_TYPES, EVENTS_TOPIC, requestTopic } from '@pinflow/contracts';
import { createLogger } from '@pinflow/logging';
import { compactVerify, flattenedVerify, importJWK } from 'jose';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { createKafka } from './client';
import { startConsumer } from './consumer';
import {
  generateMessageSigningKey,
  INTAKE_SIGNER,
  MessageSigner,
  MessageTrust,
  MessageVerifier,
  messageVerifyingConfig,
  rightfulSigner,
  signersOf,
  workerSigner,
  writeMessageKeyFiles,
} from './message-signing';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pinflow-message-keys-'));
const keys = writeMessageKeyFiles(dir);
const verifier = MessageTrust.open({ MESSAGE_SIGNERS_FILE: keys.signersFile }, 'audit');
const intake = keys.signerOf(INTAKE_SIGNER);
const pismoWorker = keys.signerOf(workerSigner('pismo'));
const COMMANDS = commandTopic('pismo');
const command = Buffer.from(JSON.stringify({ commandId: 'c-1', vendor: 'pismo', operation: 'change_pin' }));

describe('message signatures', () => {
  afterAll(() => verifier.close());

  it('names the signer of a message signed for its topic by one who may publish there', () => {
    expect(verifier.verify(COMMANDS, command, intake.sign(COMMANDS, command))).toEqual({ signer: INTAKE_SIGNER });
  });

  it('refuses a message whose bytes changed after signing, by a single byte', () => {
    const signature = intake.sign(COMMANDS, command);
    const tampered = Buffer.from(command);
    tampered[tampered.length - 2] ^= 1;
    expect(verifier.verify(COMMANDS, tampered, signature)).toEqual({ untrusted: expect.stringMatching(/does not match/) });
  });

  it('refuses a message signed for another topic, even one its signer may publish on', () => {
    const signature = intake.sign(commandTopic('vault'), command);
    expect(verifier.verify(COMMANDS, command, signature)).toEqual({ untrusted: `signed for topic ${commandTopic('vault')}, found on ${COMMANDS}` });
  });

  it('refuses a signer on a topic that is not its own: a worker cannot publish commands', () => {
    expect(verifier.verify(COMMANDS, command, pismoWorker.sign(COMMANDS, command))).toEqual({ untrusted: `worker-pismo may not publish on ${COMMANDS}` });
  });

  it('refuses a key no trusted signer holds, and a signature put under a trusted kid by someone else', () => {
    const stranger = new MessageSigner(generateMessageSigningKey('stranger-1').privateJwk);
    expect(verifier.verify(COMMANDS, command, stranger.sign(COMMANDS, command))).toEqual({ untrusted: "kid stranger-1 is no trusted signer's key" });
    const impostor = new MessageSigner(generateMessageSigningKey(intake.kid).privateJwk);
    expect(verifier.verify(COMMANDS, command, impostor.sign(COMMANDS, command))).toEqual({ untrusted: expect.stringMatching(/does not match/) });
  });

  it('refuses a message without a signature, and signatures that are not detached EdDSA JWS bound to a topic', () => {
    const header = (fields: object) => Buffer.from(JSON.stringify(fields)).toString('base64url');
    const real = intake.sign(COMMANDS, command).split('.');
    const payload = command.toString('base64url');
    expect(verifier.verify(COMMANDS, command, undefined)).toEqual({ untrusted: 'no pinflow-signature header' });
    for (const forged of [
      'garbage',
      `${real[0]}.${payload}.${real[2]}`,
      `${header({ alg: 'none', kid: intake.kid, b64: false, crit: ['b64'], pinflow_topic: COMMANDS })}..${real[2]}`,
      `${header({ alg: 'EdDSA', kid: intake.kid, pinflow_topic: COMMANDS })}..${real[2]}`,
      `${header({ alg: 'EdDSA', kid: intake.kid, b64: false, crit: ['b64'] })}..${real[2]}`,
    ]) {
      expect(verifier.verify(COMMANDS, command, forged)).toEqual({ untrusted: expect.any(String) });
      expect(verifier.verify(COMMANDS, command, forged)).not.toHaveProperty('signer');
    }
  });

  it('is a standard detached JWS with an unencoded payload: jose verifies it', async () => {
    const [protectedHeader, , signature] = intake.sign(COMMANDS, command).split('.');
    const publicJwk = JSON.parse(readFileSync(keys.signersFile, 'utf8'))[INTAKE_SIGNER].keys[0];
    const verified = await flattenedVerify({ protected: protectedHeader, payload: command, signature }, await importJWK(publicJwk, 'EdDSA'));
    expect(verified.protectedHeader).toMatchObject({ alg: 'EdDSA', kid: intake.kid, pinflow_topic: COMMANDS });
  });
});

describe('batch signatures: the messages of one produce request share one signature', () => {
  const batch = Array.from({ length: 7 }, (_, index) => Buffer.from(JSON.stringify({ commandId: `c-${index}`, vendor: 'pismo', operation: 'change_pin' })));
  const signatures = () => intake.signBatch(COMMANDS, batch);

  it('names the signer of every message of the batch, each checked on its own (as a consumer of one partition sees them)', () => {
    const signed = signatures();
    expect(new Set(signed.map((signature) => signature.split('~')[0])).size).toBe(1);
    for (const [index, value] of batch.entries()) {
      const freshVerifier = new MessageVerifier(JSON.parse(readFileSync(keys.signersFile, 'utf8')));
      expect(freshVerifier.verify(COMMANDS, value, signed[index])).toEqual({ signer: INTAKE_SIGNER });
    }
  });

  it('refuses a message changed after signing, though its batch was verified already', () => {
    const signed = signatures();
    expect(verifier.verify(COMMANDS, batch[0], signed[0])).toEqual({ signer: INTAKE_SIGNER });
    const tampered = Buffer.from(batch[3]);
    tampered[tampered.length - 2] ^= 1;
    expect(verifier.verify(COMMANDS, tampered, signed[3])).toEqual({ untrusted: expect.stringMatching(/does not match/) });
  });

  it("refuses a message under another message's proof, a proof cut short or lengthened, and a leaf index outside the batch", () => {
    const signed = signatures();
    const [jws, index, ...siblings] = signed[2].split('~');
    expect(verifier.verify(COMMANDS, batch[2], signed[5])).toHaveProperty('untrusted');
    for (const forged of [[jws, index, ...siblings.slice(1)], [jws, index, ...siblings, siblings[0]], [jws, '7', ...siblings], [jws, '3', ...siblings], [jws, index, ...siblings.reverse()], [jws]]) {
      expect(verifier.verify(COMMANDS, batch[2], forged.join('~'))).toHaveProperty('untrusted');
    }
  });

  it('refuses a batch signed for another topic, by a signer not allowed on the topic, or whose header lies about its size', () => {
    expect(verifier.verify(COMMANDS, batch[1], intake.signBatch(commandTopic('vault'), batch)[1])).toEqual({ untrusted: `signed for topic ${commandTopic('vault')}, found on ${COMMANDS}` });
    expect(verifier.verify(COMMANDS, batch[1], pismoWorker.signBatch(COMMANDS, batch)[1])).toEqual({ untrusted: `worker-pismo may not publish on ${COMMANDS}` });
    const [jws, ...proof] = signatures()[6].split('~');
    const [header, root, signature] = jws.split('.');
    const resized = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(header, 'base64url').toString()), pinflow_batch: 8 })).toString('base64url');
    expect(verifier.verify(COMMANDS, batch[6], [`${resized}.${root}.${signature}`, ...proof].join('~'))).toHaveProperty('untrusted');
  });

  it('signs a batch of one as a single message: a detached JWS, without a proof', () => {
    const [signature] = intake.signBatch(COMMANDS, [command]);
    expect(signature).toMatch(/^[\w-]+\.\.[\w-]+$/);
    expect(verifier.verify(COMMANDS, command, signature)).toEqual({ signer: INTAKE_SIGNER });
  });

  it("is a standard compact JWS over the tree's root: jose verifies it", async () => {
    const [jws] = signatures()[0].split('~');
    const publicJwk = JSON.parse(readFileSync(keys.signersFile, 'utf8'))[INTAKE_SIGNER].keys[0];
    const verified = await compactVerify(jws, await importJWK(publicJwk, 'EdDSA'));
    expect(verified.protectedHeader).toMatchObject({ alg: 'EdDSA', kid: intake.kid, pinflow_topic: COMMANDS, pinflow_batch: batch.length });
    expect(verified.payload).toHaveLength(32);
  });
});

describe('who may publish what', () => {
  /** As much of an event as decides who may publish it. */
  const event = (type: string, vendor: string) => ({ type, subject: 'card-1', data: { vendor } });

  it('leaves commands to intake, answers to intake and a vendor’s outcomes to its worker', () => {
    expect(signersOf(COMMANDS)).toEqual(new Set([INTAKE_SIGNER]));
    expect(rightfulSigner(COMMANDS, {})).toBe(INTAKE_SIGNER);
    expect(rightfulSigner(EVENTS_TOPIC, event(EVENT_TYPES.accepted, 'pismo'))).toBe(INTAKE_SIGNER);
    expect(rightfulSigner(EVENTS_TOPIC, event(EVENT_TYPES.rejected, 'pismo'))).toBe(INTAKE_SIGNER);
    expect(rightfulSigner(EVENTS_TOPIC, event(EVENT_TYPES.passwordChanged, 'pismo'))).toBe('worker-pismo');
    expect(rightfulSigner(EVENTS_TOPIC, event(EVENT_TYPES.failed, 'vault'))).toBe('worker-vault');
    expect(rightfulSigner(EVENTS_TOPIC, { type: EVENT_TYPES.failed, data: { vendor: 'nobody' } })).toBeUndefined();
    expect(rightfulSigner(EVENTS_TOPIC, null)).toBeUndefined();
  });

  it('leaves no consumer of commands or events without a verifier: it does not start', async () => {
    const kafka = createKafka({ KAFKA_BROKERS: ['127.0.0.1:1'], KAFKA_COMMAND_PARTITIONS: 1, KAFKA_EVENT_PARTITIONS: 1, KAFKA_REPLICATION_FACTOR: 1, KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY: 1 }, 'spec', createLogger('spec', 'silent'));
    const consumer = { kafka, groupId: 'spec', schema: z.unknown(), logger: createLogger('spec', 'silent'), partitionsConsumedConcurrently: 1, handle: async () => undefined };

    await expect(startConsumer({ ...consumer, topics: [EVENTS_TOPIC] })).rejects.toThrow(`consuming ${EVENTS_TOPIC} needs a verifier of their signatures (MESSAGE_SIGNERS_FILE)`);
  });

  it('does not sign the topics of others: a requester signs its own requests', () => {
    expect(signersOf(requestTopic('core-banking'))).toBeUndefined();
    expect(signersOf('pismo.events')).toBeUndefined();
  });
});

describe('message key files', () => {
  it('refuse to start with the removed MESSAGE_KEYS_GRACE_PERIOD_SECONDS, pointing to notAfter in the signers file', () => {
    const schema = z.object(messageVerifyingConfig);
    const files = { MESSAGE_SIGNERS_FILE: '/run/secrets/message-signers' };
    expect(() => loadConfig('audit', schema, files)).not.toThrow();
    const attempt = () => loadConfig('audit', schema, { ...files, MESSAGE_KEYS_GRACE_PERIOD_SECONDS: '3600' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/MESSAGE_KEYS_GRACE_PERIOD_SECONDS: was removed: write "notAfter" .* in MESSAGE_SIGNERS_FILE instead/);
  });

  it('refuse to start (ConfigError) on a file that is missing or not an Ed25519 key, without quoting it', () => {
    const broken = path.join(dir, 'broken.json');
    writeFileSync(broken, JSON.stringify({ kty: 'RSA', d: 'c2VjcmV0LWtleS1tYXRlcmlhbA', kid: 'x' }));
    for (const settings of [{ MESSAGE_SIGNING_KEY_FILE: path.join(dir, 'absent.json') }, { MESSAGE_SIGNING_KEY_FILE: broken }, { MESSAGE_SIGNERS_FILE: broken }]) {
      let error: unknown;
      try {
        MessageTrust.open(settings, 'intake').close();
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).not.toContain('c2VjcmV0LWtleS1tYXRlcmlhbA');
    }
  });

  it('are read again: a signer added to the signers file is trusted without a restart', async () => {
    const rotating = mkdtempSync(path.join(os.tmpdir(), 'pinflow-message-keys-rotating-'));
    const before = writeMessageKeyFiles(rotating, [INTAKE_SIGNER]);
    const trust = MessageTrust.open({ MESSAGE_SIGNERS_FILE: before.signersFile, MESSAGE_KEYS_RELOAD_INTERVAL_MS: 20 }, 'worker-pismo');
    try {
      const nextKey = generateMessageSigningKey('intake-next');
      const next = new MessageSigner(nextKey.privateJwk);
      expect(trust.verify(COMMANDS, command, next.sign(COMMANDS, command))).toHaveProperty('untrusted');
      // Rotation's first step: the new public key next to the old one, before intake signs with it.
      const signers = JSON.parse(readFileSync(before.signersFile, 'utf8'));
      signers[INTAKE_SIGNER].keys.push(nextKey.publicJwk);
      writeFileSync(before.signersFile, JSON.stringify(signers));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(trust.verify(COMMANDS, command, next.sign(COMMANDS, command))).toEqual({ signer: INTAKE_SIGNER });
      expect(trust.verify(COMMANDS, command, before.signerOf(INTAKE_SIGNER).sign(COMMANDS, command))).toEqual({ signer: INTAKE_SIGNER });
    } finally {
      trust.close();
    }
  });

  /** A worker that starts (or restarts) now, trusting intake's key as a signers file with this `notAfter` gives it, or none. */
  function startedWithIntakeKey(notAfter: Date | undefined): { trust: MessageTrust; oldKey: MessageSigner; signersFile: string } {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pinflow-message-keys-retiring-'));
    const files = writeMessageKeyFiles(dir, [INTAKE_SIGNER]);
    const signers = JSON.parse(readFileSync(files.signersFile, 'utf8'));
    if (notAfter) signers[INTAKE_SIGNER].keys[0].notAfter = notAfter.toISOString();
    signers[INTAKE_SIGNER].keys.push(generateMessageSigningKey('intake-next').publicJwk);
    writeFileSync(files.signersFile, JSON.stringify(signers));
    return { trust: MessageTrust.open({ MESSAGE_SIGNERS_FILE: files.signersFile, MESSAGE_KEYS_RELOAD_INTERVAL_MS: 20 }, 'worker-pismo'), oldKey: files.signerOf(INTAKE_SIGNER), signersFile: files.signersFile };
  }

  it('trust a key retired in the signers file until its notAfter, in a service started after the retirement too: its messages may still be in flight or parked', async () => {
    const { trust, oldKey } = startedWithIntakeKey(new Date(Date.now() + 300));
    try {
      expect(trust.verify(COMMANDS, command, oldKey.sign(COMMANDS, command))).toEqual({ signer: INTAKE_SIGNER });
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(trust.verify(COMMANDS, command, oldKey.sign(COMMANDS, command))).toEqual({ untrusted: expect.stringMatching(/^kid intake-\S+ was retired at \d{4}-/) });
    } finally {
      trust.close();
    }
  });

  it('refuse a key whose notAfter is past, however recently the service started', () => {
    const { trust, oldKey } = startedWithIntakeKey(new Date(Date.now() - 1000));
    try {
      expect(trust.verify(COMMANDS, command, oldKey.sign(COMMANDS, command))).toHaveProperty('untrusted');
    } finally {
      trust.close();
    }
  });

  it('distrust a key removed from the signers file at once, as for a leaked key', async () => {
    const { trust, oldKey, signersFile } = startedWithIntakeKey(undefined);
    try {
      const signers = JSON.parse(readFileSync(signersFile, 'utf8'));
      signers[INTAKE_SIGNER].keys.shift();
      writeFileSync(signersFile, JSON.stringify(signers));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(trust.verify(COMMANDS, command, oldKey.sign(COMMANDS, command))).toEqual({ untrusted: expect.stringMatching(/is no trusted signer's key$/) });
    } finally {
      trust.close();
    }
  });

  it('refuse to start (ConfigError) on a notAfter that is no ISO 8601 time with offset', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pinflow-message-keys-bad-'));
    const files = writeMessageKeyFiles(dir, [INTAKE_SIGNER]);
    const signers = JSON.parse(readFileSync(files.signersFile, 'utf8'));
    signers[INTAKE_SIGNER].keys[0].notAfter = 'tomorrow';
    writeFileSync(files.signersFile, JSON.stringify(signers));

    expect(() => MessageTrust.open({ MESSAGE_SIGNERS_FILE: files.signersFile }, 'worker-pismo')).toThrow(ConfigError);
  });
});
