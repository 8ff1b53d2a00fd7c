import { commandTopic } from '@pinflow/contracts';
import { generateMessageSigningKey, MESSAGE_SIGNERS, MessageSigner, MessageVerifier, INTAKE_SIGNER } from '@pinflow/kafka';
import { FlattenedSign, flattenedVerify, importJWK } from 'jose';
import { randomBytes } from 'node:crypto';

/**
 * The CPU cost of signing and verifying one message, as pinflow does it (node:crypto, the protected
 * header encoded once per topic; alone, and in a batch of BATCH sharing one signature) and as jose's
 * FlattenedSign/flattenedVerify would, on a value the size of a command with a sealed PIN.
 * `node dist/tools/bench/message-signing-cost.js [messages]`.
 */
/** About what a worker's produce request carried in the benchmark at 300 changes/s. */
const BATCH = 11;

async function main(): Promise<void> {
  const messages = Number(process.argv[2] ?? 20_000);
  const topic = commandTopic('pismo');
  const value = Buffer.from(JSON.stringify({ commandId: randomBytes(16).toString('hex'), encryptedPin: randomBytes(600).toString('base64url'), padding: 'x'.repeat(400) }));
  const { privateJwk, publicJwk } = generateMessageSigningKey('intake-bench');
  const signer = new MessageSigner(privateJwk);
  const signers = Object.fromEntries(MESSAGE_SIGNERS.map((service) => [service, { keys: service === INTAKE_SIGNER ? [publicJwk] : [generateMessageSigningKey(`${service}-bench`).publicJwk] }]));
  const verifier = new MessageVerifier(signers);
  let messagesSigned = 0;
  let verified = 0;
  const privateKey = await importJWK(privateJwk, 'EdDSA');
  const publicKey = await importJWK(publicJwk, 'EdDSA');
  const header = { alg: 'EdDSA', kid: privateJwk.kid, b64: false, crit: ['b64'], pinflow_topic: topic };

  const time = async (name: string, work: () => unknown) => {
    for (let i = 0; i < 500; i += 1) await work();
    const started = process.cpuUsage();
    for (let i = 0; i < messages; i += 1) await work();
    const { user, system } = process.cpuUsage(started);
    process.stdout.write(`${name.padEnd(28)} ${((user + system) / messages).toFixed(1)} µs CPU per message\n`);
  };
  const batch = Array.from({ length: BATCH }, () => value);
  const signature = signer.sign(topic, value);
  await time('sign (node:crypto)', () => signer.sign(topic, value));
  await time('verify (node:crypto)', () => verifier.verify(topic, value, signature));
  // Per message: a batch is signed, and on the consuming side verified, once for BATCH messages.
  await time(`sign, batch of ${BATCH} (÷ ${BATCH})`, () => (messagesSigned += 1) % BATCH === 0 && signer.signBatch(topic, batch));
  // Distinct batches, so that each is verified once, as a consumer meets them.
  const batches = Array.from({ length: Math.ceil((messages + 500) / BATCH) + 1 }, (_, number) => {
    const values = batch.map((one, index) => Buffer.concat([one, Buffer.from(` ${number}-${index}`)]));
    return { values, signatures: signer.signBatch(topic, values) };
  });
  await time(`verify, batch of ${BATCH}`, () => {
    const { values, signatures } = batches[Math.floor(verified / BATCH)];
    const index = verified++ % BATCH;
    return verifier.verify(topic, values[index], signatures[index]);
  });
  const jws = await new FlattenedSign(value).setProtectedHeader(header).sign(privateKey);
  await time('sign (jose FlattenedSign)', () => new FlattenedSign(value).setProtectedHeader(header).sign(privateKey));
  await time('verify (jose flattenedVerify)', () => flattenedVerify({ protected: jws.protected, payload: value, signature: jws.signature }, publicKey, { crit: { pinflow_topic: false } }));
  process.stdout.write(`value: ${value.length} bytes\n`);
}

void main();
