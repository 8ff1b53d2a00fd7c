import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '@pinflow/testing';

const run = promisify(execFile);
const SCRIPT = path.join(repoRoot, 'tools/kafka-local/kafka-local.sh');

export interface LocalKafka {
  brokers: string;
  stateDir: string;
  stop(): Promise<void>;
  /** SIGKILL: a crash, for failure drills. */
  kill(): Promise<void>;
  /** Starts again on the data it had. */
  resume(): Promise<void>;
}

/** A real single-node KRaft broker from Apache Kafka's jars (fetched once through Maven). */
export async function startLocalKafka(options: { port: number; controllerPort: number; stateDir: string }): Promise<LocalKafka> {
  const env = {
    ...process.env,
    KAFKA_PORT: String(options.port),
    KAFKA_CONTROLLER_PORT: String(options.controllerPort),
    KAFKA_STATE_DIR: options.stateDir,
  };
  await run('bash', [SCRIPT, 'start'], { env, maxBuffer: 16 * 1024 * 1024 });
  return {
    brokers: `127.0.0.1:${options.port}`,
    stateDir: options.stateDir,
    stop: async () => {
      await run('bash', [SCRIPT, 'stop'], { env });
    },
    kill: async () => {
      await run('bash', [SCRIPT, 'kill'], { env });
    },
    resume: async () => {
      await run('bash', [SCRIPT, 'resume'], { env, maxBuffer: 16 * 1024 * 1024 });
    },
  };
}
