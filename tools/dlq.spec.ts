import { freePort, repoRoot } from '@pinflow/testing';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

describe('npm run dlq', () => {
  it('names the broker it cannot reach and how to fix it, instead of retrying for minutes', async () => {
    const closedPort = await freePort();
    const failure = await run(process.execPath, [path.join(repoRoot, 'dist/tools/dlq.js'), 'list'], {
      env: { ...process.env, KAFKA_BROKERS: `127.0.0.1:${closedPort}` },
    }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );

    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toBe(`cannot reach Kafka at 127.0.0.1:${closedPort} (KAFKA_BROKERS): start it with \`npm start\`, or set KAFKA_BROKERS to your bootstrap servers\n`);
  });
});
