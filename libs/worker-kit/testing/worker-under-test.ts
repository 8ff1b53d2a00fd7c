import { commandTopic, EVENTS_TOPIC, type Vendor } from '@pinflow/contracts';
import { createPrismaClient, PrismaClient } from '@pinflow/db';
import { createKafka, DEAD_LETTER_HEADERS, DEAD_LETTER_TOPIC, INTAKE_SIGNER, JsonProducer, MessageKeyFiles, workerSigner, writeMessageKeyFiles } from '@pinflow/kafka';
import { createLogger } from '@pinflow/logging';
import { SandboxClient } from '@pinflow/sandbox-kit';
import { appEntry, freePort, ServiceProcess, testEnv, TopicRecorder, waitFor, waitForReady } from '@pinflow/testing';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What a worker's environment is made from, once its vendor's sandbox is up. */
export interface WorkerSetup {
  sandbox: SandboxClient;
  /** A scratch directory for files the worker reads (keys) and the services' logs; removed at the end. */
  work: string;
  kafkaBrokers: string;
  databaseUrl: string;
}

export interface WorkerUnderTestOptions {
  vendor: Vendor;
  /** The OAuth2 client the worker (and the test) sign in to the sandbox with. */
  client: { id: string; secret: string };
  /** The sandbox's own settings besides host, port and client (LOG_LEVEL is `trace` unless given). */
  sandboxEnv?: Record<string, string>;
  /** Onboarding with the sandbox, then the worker's vendor settings (besides host, port, broker and database). */
  workerEnv(setup: WorkerSetup): Promise<Record<string, string>> | Record<string, string>;
  /** What the recorder reads besides the vendor's commands and the events (the dead letters, once the worker made that topic). */
  extraTopics?: string[];
}

/**
 * A worker and its vendor's sandbox as their own processes, over real HTTP, with the real broker and
 * database from globalSetup, and the test's side of it: a producer for commands as intake publishes
 * them, a recorder of what the worker publishes, and the worker's ledger. Each worker's integration
 * test starts one.
 */
export class WorkerUnderTest {
  private constructor(
    readonly work: string,
    readonly sandbox: SandboxClient,
    readonly sandboxProcess: ServiceProcess,
    readonly worker: ServiceProcess,
    readonly workerUrl: string,
    /** The worker's environment, for a second worker configured otherwise. */
    readonly workerEnv: Record<string, string>,
    /** Publishes as intake does: signed with intake's message key. */
    readonly producer: JsonProducer,
    /** Every signer's message key, e.g. to publish as someone who may not. */
    readonly messageKeys: MessageKeyFiles,
    readonly recorder: TopicRecorder,
    readonly prisma: PrismaClient,
    private readonly vendor: Vendor,
  ) {}

  static async start(options: WorkerUnderTestOptions): Promise<WorkerUnderTest> {
    const { vendor, client } = options;
    const { kafkaBrokers, databaseUrl } = testEnv();
    const work = mkdtempSync(path.join(os.tmpdir(), `pinflow-worker-${vendor}-it-`));
    const sandboxPort = await freePort();
    const sandbox = new SandboxClient(`http://127.0.0.1:${sandboxPort}`);
    const sandboxProcess = new ServiceProcess(
      `sandbox-${vendor}`,
      appEntry(`sandbox-${vendor}`),
      { HOST: '127.0.0.1', PORT: String(sandboxPort), SANDBOX_CLIENT_ID: client.id, SANDBOX_CLIENT_SECRET: client.secret, LOG_LEVEL: 'trace', ...options.sandboxEnv },
      path.join(work, `sandbox-${vendor}.log`),
    );
    sandboxProcess.start();
    await waitForReady(sandboxProcess, sandbox.baseUrl, 90_000);

    const messageKeys = writeMessageKeyFiles(path.join(work, 'message-keys'));
    const workerEnv = {
      // The most talkative level: the leak searches cover it.
      LOG_LEVEL: 'trace',
      KAFKA_BROKERS: kafkaBrokers,
      MESSAGE_SIGNING_KEY_FILE: messageKeys.signingKeyFiles[workerSigner(vendor)],
      MESSAGE_SIGNERS_FILE: messageKeys.signersFile,
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: '4',
      WORKER_COMMAND_GROUP: `it-worker-${vendor}-${randomUUID()}`,
      ...(await options.workerEnv({ sandbox, work, kafkaBrokers, databaseUrl })),
    };
    const workerPort = await freePort();
    const workerUrl = `http://127.0.0.1:${workerPort}`;
    const worker = workerProcess(work, vendor, `worker-${vendor}`, workerEnv, workerPort);
    worker.start();
    await waitForReady(worker, workerUrl, 90_000);

    const kafka = createKafka(
      { KAFKA_BROKERS: kafkaBrokers.split(','), KAFKA_COMMAND_PARTITIONS: 6, KAFKA_EVENT_PARTITIONS: 6, KAFKA_REPLICATION_FACTOR: 1, KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY: 1 },
      `worker-${vendor}-int-spec`,
      createLogger(`worker-${vendor}-int-spec`, 'silent'),
    );
    const producer = new JsonProducer(kafka, messageKeys.signerOf(INTAKE_SIGNER));
    await producer.connect();
    const prisma = createPrismaClient(databaseUrl, 2);
    // The worker created its topics at start-up, so the recorder can subscribe to them.
    const recorder = await new TopicRecorder(kafkaBrokers, [commandTopic(vendor), EVENTS_TOPIC, ...(options.extraTopics ?? [])]).start();
    return new WorkerUnderTest(work, sandbox, sandboxProcess, worker, workerUrl, workerEnv, producer, messageKeys, recorder, prisma, vendor);
  }

  /** Another process of the worker's app, not started: e.g. one configured otherwise. */
  workerProcess(name: string, env: Record<string, string>, port: number): ServiceProcess {
    return workerProcess(this.work, this.vendor, name, env, port);
  }

  /** A call to the sandbox's test hooks, which must succeed. */
  async hook<T = any>(method: string, route: string, body?: unknown): Promise<T> {
    const answer = await this.sandbox.call(method, route, { body });
    if (answer.status >= 300) throw new Error(`${method} ${route} answered ${answer.status}: ${answer.text}`);
    return answer.body as T;
  }

  /** Why the worker parked a command for an operator: the reason its dead letter carries. */
  async deadLetterReason(commandId: string): Promise<string> {
    const parked = (message: { topic: string; value: string }) => message.topic === DEAD_LETTER_TOPIC && JSON.parse(message.value).commandId === commandId;
    return (await waitFor('the command’s dead letter', async () => this.recorder.messages.find(parked))).headers[DEAD_LETTER_HEADERS.reason];
  }

  async stop(): Promise<void> {
    await this.worker.stop();
    await this.sandboxProcess.stop();
    await this.recorder.stop();
    await this.producer.disconnect();
    await this.prisma.$disconnect();
    rmSync(this.work, { recursive: true, force: true });
  }
}

function workerProcess(work: string, vendor: Vendor, name: string, env: Record<string, string>, port: number): ServiceProcess {
  return new ServiceProcess(name, appEntry(`worker-${vendor}`), { HOST: '127.0.0.1', PORT: String(port), ...env }, path.join(work, `${name}.log`));
}
