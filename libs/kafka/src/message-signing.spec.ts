import { ConfigError } from '@pinflow/config';
import { commandTopic, EVENT_TYPES, EVENTS_TOPIC, requestTopic } from '@pinflow/contracts';
import { createLogger } from '@pinflow/logging';
import { flattenedVerify, importJWK } from 'jose';
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

  /** A worker trusting intake's key from a signers file, reloaded every 20 ms; the file then drops that key. */
  async function withIntakeKeyRemoved(gracePeriodSeconds: number, check: (trust: MessageTrust, oldKey: MessageSigner, signersFile: string) => Promise<void>) {
    const rotating = mkdtempSync(path.join(os.tmpdir(), 'pinflow-message-keys-retiring-'));
    const files = writeMessageKeyFiles(rotating, [INTAKE_SIGNER]);
    const trust = MessageTrust.open({ MESSAGE_SIGNERS_FILE: files.signersFile, MESSAGE_KEYS_RELOAD_INTERVAL_MS: 20, MESSAGE_KEYS_GRACE_PERIOD_SECONDS: gracePeriodSeconds }, 'worker-pismo');
    try {
      const nextKey = generateMessageSigningKey('intake-next');
      writeFileSync(files.signersFile, JSON.stringify({ [INTAKE_SIGNER]: { keys: [nextKey.publicJwk] } }));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(trust.verify(COMMANDS, command, new MessageSigner(nextKey.privateJwk).sign(COMMANDS, command))).toEqual({ signer: INTAKE_SIGNER });
      await check(trust, files.signerOf(INTAKE_SIGNER), files.signersFile);
    } finally {
      trust.close();
    }
  }

  it('keep trusting a key removed from the signers file for the grace period: its messages may still be in flight or parked', async () => {
    await withIntakeKeyRemoved(3600, async (trust, oldKey, signersFile) => {
      expect(trust.verify(COMMANDS, command, oldKey.sign(COMMANDS, command))).toEqual({ signer: INTAKE_SIGNER });
      // A later change of the file (the next key announced) keeps the removed key's grace running.
      const signers = JSON.parse(readFileSync(signersFile, 'utf8'));
      signers[INTAKE_SIGNER].keys.push(generateMessageSigningKey('intake-after-next').publicJwk);
      writeFileSync(signersFile, JSON.stringify(signers));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(trust.verify(COMMANDS, command, oldKey.sign(COMMANDS, command))).toEqual({ signer: INTAKE_SIGNER });
    });
  });

  it('distrust a removed key at once with a grace period of 0, as for a leaked key', async () => {
    await withIntakeKeyRemoved(0, async (trust, oldKey) => {
      expect(trust.verify(COMMANDS, command, oldKey.sign(COMMANDS, command))).toHaveProperty('untrusted');
    });
  });
});
