import { constants, generateKeyPairSync, privateDecrypt, publicEncrypt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * What this machine charges a process for waking up, which is why pinflow's CPU per change grows as
 * the load falls (README, "Figures"): each hop of a change that arrives alone wakes its process from
 * idle, while under full load the processes never sleep. Prints the CPU one wake-up from a timer costs
 * after 1, 10 and 50 ms asleep, and the CPU of one RSA-OAEP decryption (intake's per-change crypto)
 * back to back against after 10 ms asleep. `node dist/tools/bench/wake-up-cost.js`.
 */
const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };

function cpuMicroseconds(since: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(since);
  return user + system;
}

async function main(): Promise<void> {
  for (const idleMs of [1, 10, 50]) {
    const wakeUps = Math.ceil(2_000 / idleMs);
    const started = process.cpuUsage();
    for (let i = 0; i < wakeUps; i += 1) await sleep(idleMs);
    process.stdout.write(`wake-up after ${String(idleMs).padStart(2)} ms asleep   ${(cpuMicroseconds(started) / wakeUps).toFixed(0).padStart(4)} µs CPU\n`);
  }

  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const sealed = publicEncrypt({ key: publicKey, ...OAEP }, Buffer.alloc(32));
  const decrypt = () => privateDecrypt({ key: privateKey, ...OAEP }, sealed);
  for (let i = 0; i < 200; i += 1) decrypt();
  const decryptions = 300;
  let started = process.cpuUsage();
  for (let i = 0; i < decryptions; i += 1) decrypt();
  const backToBack = cpuMicroseconds(started) / decryptions;
  let inDecryption = 0;
  for (let i = 0; i < decryptions; i += 1) {
    await sleep(10);
    started = process.cpuUsage();
    decrypt();
    inDecryption += cpuMicroseconds(started);
  }
  process.stdout.write(`RSA-OAEP decryption, back to back   ${backToBack.toFixed(0).padStart(4)} µs CPU\n`);
  process.stdout.write(`RSA-OAEP decryption, after 10 ms asleep ${(inDecryption / decryptions).toFixed(0).padStart(4)} µs CPU\n`);
}

void main();
