import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '@pinflow/testing';

const execFileAsync = promisify(execFile);
const SCRIPT = path.join(repoRoot, 'tools/kafka-local/kafka-local.sh');

/** Runs tools/kafka-local/kafka-local.sh with a command (`start`, `cluster-kill 2`...) and its settings. */
export async function kafkaLocal(args: string[], env: Record<string, string>): Promise<void> {
  await execFileAsync('bash', [SCRIPT, ...args], { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 });
}

/** KAFKA_SASL_USERS of kafka-local.sh: name:password,... */
export function usersSetting(users: Record<string, string>): string {
  return Object.entries(users)
    .map(([name, password]) => `${name}:${password}`)
    .join(',');
}

export interface LocalKafka {
  brokers: string;
  stateDir: string;
  stop(): Promise<void>;
  /** SIGKILL: a crash, for failure drills. */
  kill(): Promise<void>;
  /** Starts again on the data it had. */
  resume(): Promise<void>;
}

/**
 * A real single-node KRaft broker from Apache Kafka's jars (fetched once through Maven). With `users`
 * (name to password, the first the broker's own super user) it serves SASL_SSL only: see kafka-secured.ts.
 */
export async function startLocalKafka(options: { port: number; controllerPort: number; stateDir: string; users?: Record<string, string> }): Promise<LocalKafka> {
  const env = {
    KAFKA_PORT: String(options.port),
    KAFKA_CONTROLLER_PORT: String(options.controllerPort),
    KAFKA_STATE_DIR: options.stateDir,
    ...(options.users ? { KAFKA_SASL_USERS: usersSetting(options.users) } : {}),
  };
  await kafkaLocal(['start'], env);
  return {
    brokers: `127.0.0.1:${options.port}`,
    stateDir: options.stateDir,
    stop: () => kafkaLocal(['stop'], env),
    kill: () => kafkaLocal(['kill'], env),
    resume: () => kafkaLocal(['resume'], env),
  };
}
