import { DEV_AUDIENCE, DEV_ISSUER, generateDevSigningKey, mintToken, OPERATOR_SCOPE, PIN_READ_SCOPE } from '@pinflow/auth';
import { createKafka, DEAD_LETTER_HEADERS, DEAD_LETTER_TOPIC, ensureTopics, readDeadLetters, writeMessageKeyFiles } from '@pinflow/kafka';
import { createLogger } from '@pinflow/logging';
import { appEntry, freePort, repoRoot, ServiceProcess, testEnv, TopicRecorder, waitFor, waitForReady } from '@pinflow/testing';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * `npm run dlq` replays through audit, the one component that replays and records replays (as it
 * does the console's): every replay is in audit's history under the operator's token subject, and
 * without audit there is no replay at all, rather than one nobody recorded.
 */
describe('npm run dlq against a running audit', () => {
  const OPERATOR = 'night-operator';
  const source = `dlq-cli-it-${randomUUID()}`;
  let work: string;
  let audit: ServiceProcess;
  let auditUrl: string;
  let operatorToken: string;
  let readerToken: string;
  let recorder: TopicRecorder;
  let park: () => Promise<{ offset: string; key: string }>;

  /** What the command says to the operator (its kafkajs log lines, JSON, left out) and its exit code. */
  const dlq = async (args: string[], env: Record<string, string> = {}) => {
    const outcome = await run(process.execPath, [path.join(repoRoot, 'dist/tools/dlq.js'), ...args], {
      env: { ...process.env, KAFKA_BROKERS: testEnv().kafkaBrokers, AUDIT_URL: auditUrl, PINFLOW_TOKEN: operatorToken, ...env },
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
    );
    const said = (text: string) => text.split('\n').filter((line) => !line.startsWith('{')).join('\n');
    return { code: outcome.code, stdout: said(outcome.stdout), stderr: said(outcome.stderr) };
  };
  const republished = (key: string) => recorder.messages.filter((message) => message.key === key);
  const historyOf = async (offset: string) => {
    const response = await fetch(`${auditUrl}/v1/operator/dead-letter-replays`, { headers: { authorization: `Bearer ${operatorToken}` } });
    const { replays } = (await response.json()) as { replays: { offset: string; replayedBy: string }[] };
    return replays.filter((replay) => replay.offset === offset);
  };

  beforeAll(async () => {
    const { kafkaBrokers, databaseUrl } = testEnv();
    work = mkdtempSync(path.join(os.tmpdir(), 'pinflow-dlq-cli-'));
    const signingKey = await generateDevSigningKey();
    const publicKeyFile = path.join(work, 'auth-public-key.json');
    writeFileSync(publicKeyFile, JSON.stringify(signingKey.publicJwk));
    const token = (subject: string, scopes: string[]) =>
      mintToken({ privateKey: signingKey.privateJwk, kid: signingKey.kid, issuer: DEV_ISSUER, audience: DEV_AUDIENCE, subject, scopes, expiresIn: '10m' });
    operatorToken = await token(OPERATOR, [PIN_READ_SCOPE, OPERATOR_SCOPE]);
    readerToken = await token('issuer-app', [PIN_READ_SCOPE]);

    const port = await freePort();
    auditUrl = `http://127.0.0.1:${port}`;
    audit = new ServiceProcess(
      'audit',
      appEntry('audit'),
      {
        HOST: '127.0.0.1',
        PORT: String(port),
        KAFKA_BROKERS: kafkaBrokers,
        DATABASE_URL: databaseUrl,
        AUTH_ISSUER: DEV_ISSUER,
        AUTH_AUDIENCE: DEV_AUDIENCE,
        AUTH_PUBLIC_KEY_FILE: publicKeyFile,
        MESSAGE_SIGNERS_FILE: writeMessageKeyFiles(path.join(work, 'message-keys')).signersFile,
        AUDIT_CONSUMER_GROUP: `dlq-cli-it-${randomUUID()}`,
      },
      path.join(work, 'audit.log'),
    );
    audit.start();

    const settings = { KAFKA_BROKERS: kafkaBrokers.split(','), KAFKA_COMMAND_PARTITIONS: 1, KAFKA_EVENT_PARTITIONS: 1, KAFKA_REPLICATION_FACTOR: 1, KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY: 1 };
    const kafka = createKafka(settings, 'dlq-cli-it', createLogger('dlq-cli-it', 'silent'));
    await ensureTopics(kafka, [{ topic: DEAD_LETTER_TOPIC, partitions: 1 }, { topic: source, partitions: 1 }], 1);
    recorder = await new TopicRecorder(kafkaBrokers, [source]).start();
    park = async () => {
      const key = `card-${randomUUID()}`;
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: DEAD_LETTER_TOPIC, messages: [{ key, value: '{}', headers: { [DEAD_LETTER_HEADERS.topic]: source, [DEAD_LETTER_HEADERS.reason]: 'RETRIES_EXHAUSTED' } }] });
      await producer.disconnect();
      return { key, offset: (await waitFor('the letter', async () => (await readDeadLetters(kafka)).find((letter) => letter.key === key))).offset };
    };
    await waitForReady(audit, auditUrl, 90_000);
  }, 120_000);

  afterAll(async () => {
    await recorder?.stop();
    await audit?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('replays a letter through audit under the token subject, skips it the second time, replays it again with --force and shows both replays', async () => {
    const { offset, key } = await park();

    expect(await dlq(['replay', '--offset', offset])).toMatchObject({ code: 0, stdout: 'replayed 1 letter(s)\n' });
    const again = await dlq(['replay', '--offset', offset]);
    expect(again.stdout).toMatch(new RegExp(`^#${offset} skipped: replayed at \\S+ by ${OPERATOR} \\(--force replays it again\\)\\nreplayed 0 letter\\(s\\)\\n$`));
    expect(await dlq(['replay', '--offset', offset, '--force'])).toMatchObject({ code: 0, stdout: 'replayed 1 letter(s)\n' });

    expect((await historyOf(offset)).map((replay) => replay.replayedBy)).toEqual([OPERATOR, OPERATOR]);
    const inspected = (await dlq(['inspect', '--limit', '1000'])).stdout;
    expect(inspected).toMatch(new RegExp(`^#${offset} .*\\n  replay 1 at \\S+ by ${OPERATOR}\\n  replay 2 at \\S+ by ${OPERATOR}\\n  \\{\\}$`, 'm'));
    expect((await dlq(['list'])).stdout).toMatch(new RegExp(`^ +\\d+  RETRIES_EXHAUSTED  from ${source}  \\(1 replayed, 2 replay\\(s\\), the last at \\S+ by ${OPERATOR}\\)$`, 'm'));
    await waitFor('both replays on the source topic', async () => republished(key).length === 2);
  });

  it('replays nothing when audit cannot record it: unreachable, or refusing the token', async () => {
    const { offset, key } = await park();
    const closedPort = await freePort();

    const unreachable = await dlq(['replay', '--offset', offset], { AUDIT_URL: `http://127.0.0.1:${closedPort}` });
    const refused = await dlq(['replay', '--offset', offset], { PINFLOW_TOKEN: readerToken });

    expect(unreachable).toMatchObject({ code: 1, stdout: '' });
    expect(unreachable.stderr).toMatch(new RegExp(`^cannot reach audit at http://127.0.0.1:${closedPort} \\(AUDIT_URL\\): .*\\nreplayed 0 letter\\(s\\) before #${offset}; the rest were not`));
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toMatch(/^audit refused the token \(403, INSUFFICIENT_SCOPE.*\): it needs the scopes pin:read and pinflow:operator\n/);
    expect(await historyOf(offset)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(republished(key)).toEqual([]);
  });

  it('lists and inspects the letters from Kafka when audit cannot be reached, saying their replays are unknown; a refused token still fails', async () => {
    const { offset } = await park();
    const closedPort = await freePort();
    const withoutAudit = { AUDIT_URL: `http://127.0.0.1:${closedPort}` };
    const unknown = `replays unknown \\(audit unreachable: http://127.0.0.1:${closedPort}: .+\\)`;

    const listed = await dlq(['list'], withoutAudit);
    const inspected = await dlq(['inspect', '--limit', '1000'], withoutAudit);
    const refused = await dlq(['list'], { PINFLOW_TOKEN: readerToken });

    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^\\d+ dead letter\\(s\\) in ${DEAD_LETTER_TOPIC}, ${unknown}\\n`));
    expect(listed.stdout).toMatch(new RegExp(`^ +\\d+  RETRIES_EXHAUSTED  from ${source}$`, 'm'));
    expect(inspected.code).toBe(0);
    expect(inspected.stdout).toMatch(new RegExp(`^${unknown}\\n`));
    expect(inspected.stdout).toMatch(new RegExp(`^#${offset} .*\\n  \\{\\}$`, 'm'));
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toMatch(/^audit refused the token \(403/);
  });

  it('refuses an offset the dead-letter topic does not hold, before replaying anything', async () => {
    const result = await dlq(['replay', '--offset', '999999999']);

    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toBe(`no dead letter at offset 999999999 in ${DEAD_LETTER_TOPIC}; nothing replayed\n`);
  });
});
