import { OPERATOR_SCOPE, PIN_READ_SCOPE } from '@pinflow/auth';
import { buildEvent, EVENT_TYPES } from '@pinflow/contracts';
import { createDatabase, Database } from '@pinflow/db';
import { createKafka, JsonProducer } from '@pinflow/kafka';
import { createLogger } from '@pinflow/logging';
import { Stack, startStack } from '@pinflow/platform';
import { repoRoot, testEnv, waitFor } from '@pinflow/testing';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SOURCE = 'urn:pinflow:ops-int-spec';

describe('npm run ops -- history and d1-settle, against running audit and intake services', () => {
  let work: string;
  let stack: Stack;
  let producer: JsonProducer;
  let operatorToken: string;
  let database: Database;

  /** The CLI as an operator runs it, pointed at this audit; its exit code, output and errors. */
  const ops = (args: string[], token: string) =>
    run(process.execPath, [path.join(repoRoot, 'dist/tools/ops.js'), ...args], { env: { ...process.env, AUDIT_URL: stack.urls.audit, INTAKE_URL: stack.urls.intake, PINFLOW_TOKEN: token } }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
    );

  beforeAll(async () => {
    const { kafkaBrokers, databaseUrl } = testEnv();
    work = mkdtempSync(path.join(os.tmpdir(), 'pinflow-ops-'));
    stack = await startStack({ kafkaBrokers, databaseUrl, stateDir: path.join(work, 'state'), logDir: path.join(work, 'logs'), apps: ['audit', 'intake'] });
    database = createDatabase(databaseUrl, 2);
    operatorToken = await stack.secrets.token([PIN_READ_SCOPE, OPERATOR_SCOPE], { subject: 'back-office' });
    producer = new JsonProducer(
      createKafka(
        { KAFKA_BROKERS: kafkaBrokers.split(','), KAFKA_COMMAND_PARTITIONS: 6, KAFKA_EVENT_PARTITIONS: 6, KAFKA_REPLICATION_FACTOR: 1, KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY: 6 },
        'ops-int-spec',
        createLogger('ops-int-spec', 'silent'),
      ),
      // Stands for intake and the worker: each event signed by whoever may publish it.
      stack.secrets.messageKeys.rightfulSigners,
    );
    await producer.connect();
  });

  afterAll(async () => {
    await database?.pool.end();
    await producer?.disconnect();
    await stack?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("prints a card's events oldest first, with vendor, request and the failure's reason, and none of the caller's identity", async () => {
    const cardId = `ops-it-${randomUUID().slice(0, 8)}`;
    const requestId = randomUUID();
    const commandId = randomUUID();
    await producer.publishEvents([
      buildEvent(EVENT_TYPES.accepted, { source: SOURCE, cardId, data: { vendor: 'pismo', requestId, commandId, operation: 'change_pin', caller: 'issuer-app', tenant: 'acme' } }),
      buildEvent(EVENT_TYPES.failed, {
        source: SOURCE,
        cardId,
        data: { vendor: 'pismo', requestId, commandId, operation: 'change_pin', reason: 'VENDOR_REJECTED', vendorStatus: 422, vendorError: { code: 'WRN0001', detail: 'card is closed' } },
      }),
    ]);

    const history = await waitFor('both events in the audit trail', async () => {
      const answer = await ops(['history', cardId], operatorToken);
      return answer.stdout.startsWith(`card ${cardId}: 2 event(s)`) && answer;
    });

    expect(history.code).toBe(0);
    const lines = history.stdout.trim().split('\n').slice(1).map((line) => line.trim().split(/\s+/).slice(1));
    expect(lines).toEqual([
      ['pin_change.accepted', 'pismo', 'change_pin', 'request', requestId, 'accepted'],
      ['pin_change.failed', 'pismo', 'change_pin', 'request', requestId, 'failed', 'VENDOR_REJECTED', '(vendor', 'HTTP', '422', 'WRN0001)'],
    ]);
    expect(history.stdout).not.toMatch(/issuer-app|acme|card is closed/);
  });

  it('tells an operator a card has no events, and a caller without the operator scope that it sees none, exiting 1', async () => {
    const empty = await ops(['history', 'ops-it-never-seen'], operatorToken);
    expect(empty).toEqual({ code: 0, stdout: 'card ops-it-never-seen: no events in the audit trail\n', stderr: '' });

    const notOperator = await ops(['history', 'ops-it-never-seen'], await stack.secrets.token([PIN_READ_SCOPE], { subject: 'someone' }));
    expect(notOperator.code).toBe(1);
    expect(notOperator.stderr).toBe('audit has no history of card ops-it-never-seen (404): no such id, or none this token may see\n');
  });

  it("settles a D1 push of unknown outcome at intake: the card's counter moves on once, a repeat says so, the opposite finding is refused", async () => {
    const cardId = `ops-it-${randomUUID().slice(0, 8)}`;
    const commandId = randomUUID();
    // A push whose outcome came back unknown: the card's row names it in flight.
    await database.pool.query(
      'INSERT INTO d1_pin_change_counters (issuer_id, card_id, change_counter, in_flight_command_id, in_flight_since) VALUES ($1, $2, 3, $3, now())',
      ['ISSUER0001', cardId, commandId],
    );
    const settle = (finding: string) => ops(['d1-settle', 'ISSUER0001', cardId, '--command', commandId, finding], operatorToken);
    const counter = async () => (await database.pool.query('SELECT change_counter, in_flight_command_id FROM d1_pin_change_counters WHERE card_id = $1', [cardId])).rows[0];

    const settled = await settle('--succeeded');
    const repeated = await settle('--succeeded');
    const contradicted = await settle('--failed');

    expect(settled).toEqual({ code: 0, stdout: `D1 push ${commandId} to card ${cardId} of issuer ISSUER0001 settled as succeeded: change counter 4, card free\n`, stderr: '' });
    expect(repeated.code).toBe(0);
    expect(repeated.stdout).toMatch(new RegExp(`^D1 push ${commandId} to card ${cardId} of issuer ISSUER0001 was already settled as succeeded by back-office at \\S+: change counter 4, card free\n$`));
    expect(contradicted.code).toBe(1);
    expect(contradicted.stderr).toMatch(/^intake answered 409 \(D1_PUSH_SETTLED_OTHERWISE: back-office settled command .* as succeeded; a settlement is final\.\)\n$/);
    expect(await counter()).toEqual({ change_counter: '4', in_flight_command_id: null });
  });

  it('says the token was refused and what to set instead, exiting 1', async () => {
    const refused = await ops(['history', 'any-card'], 'not-a-token');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^audit refused the token \(401.*\): set PINFLOW_TOKEN to a current token from the issuer audit trusts\n$/);
  });
});
