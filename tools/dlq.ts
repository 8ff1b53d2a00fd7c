import { commaList, loadConfig } from '@pinflow/config';
import { createKafka, DEAD_LETTER_HEADERS, DEAD_LETTER_TOPIC, kafkaConfig, readDeadLetters, replayKeyOf, type ReplayRecord, type StoredDeadLetter } from '@pinflow/kafka';
import type { Kafka } from 'kafkajs';
import { createLogger } from '@pinflow/logging';
import { localPorts } from '@pinflow/platform';
import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { describeReplaysUnknown, describeSkipped, formatList, formatReplays, historiesByLetter, replayHistory, replayMade, replayRefused, type ReplayHistories } from './dlq-cli';
import { describeRefusal } from './ops-cli';
import { callService, getJson, parseAnswer, serviceEndpoint, ServiceUnreachableError } from './service-client';

/**
 * Operator command for pinflow's dead-letter topic; `npm run ops -- dlq …` runs it too.
 *   npm run dlq -- list                       counts per reason and source topic, and their replays
 *   npm run dlq -- inspect [--limit 50]       each letter: offset, reason, detail, source, every replay; secrets masked
 *   npm run dlq -- replay --offset 12 [--offset 13 …] | --all [--reason HANDLER_FAILED] [--force]
 *                                             republish letters to the topic they came from
 * Reads the letters from KAFKA_BROKERS, by default the broker `npm start` runs (moved with
 * PINFLOW_BASE_PORT like it). Replays go through audit (AUDIT_URL, PINFLOW_TOKEN as for `npm run ops`),
 * the one component that replays and records who replayed what and when, as it does the console's:
 * without audit there is no replay, never an unrecorded one (list and inspect still show the letters,
 * their replays unknown). A letter replayed before is skipped
 * unless --force; replays are safe to repeat (consumers deduplicate on command and event ids).
 */
const LOCAL_BROKER = `127.0.0.1:${localPorts().kafka}`;
const BROKER_CONNECT_TIMEOUT_MS = 3000;

const SECRET_FIELD = /encrypted|pin|passcode|pan$|^code$|signature|token|secret/i;

/** A letter's value for human eyes: JSON with every secret-looking field masked, or its size. */
function masked(value: Buffer | null): string {
  if (!value) return '(empty)';
  try {
    return JSON.stringify(JSON.parse(value.toString()), (key, field) => (key && SECRET_FIELD.test(key) ? '[masked]' : field));
  } catch {
    return `(not JSON, ${value.length} bytes)`;
  }
}

function acceptsConnections(broker: string): Promise<boolean> {
  const separator = broker.lastIndexOf(':');
  const host = broker.slice(0, separator).replace(/^\[(.*)\]$/, '$1');
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(broker.slice(separator + 1)), timeout: BROKER_CONNECT_TIMEOUT_MS });
    const settle = (reachable: boolean) => {
      socket.destroy();
      resolve(reachable);
    };
    socket.once('connect', () => settle(true));
    socket.once('timeout', () => settle(false));
    socket.once('error', () => settle(false));
  });
}

/** kafkajs would retry an absent broker for minutes; an operator deserves the reason at once. */
async function requireReachable(brokers: string[]): Promise<void> {
  const reachable = await Promise.all(brokers.map(acceptsConnections));
  if (reachable.includes(true)) return;
  throw new Error(
    `cannot reach Kafka at ${brokers.join(',')} (KAFKA_BROKERS${process.env.KAFKA_BROKERS ? '' : `, default ${LOCAL_BROKER}`}): ` +
      'start it with `npm start`, or set KAFKA_BROKERS to your bootstrap servers',
  );
}

const audit = serviceEndpoint('audit', 'AUDIT_URL', 'audit');

/** Every letter's replays by `partition@offset`, from audit, which records them. */
async function replayHistories(): Promise<Map<string, ReplayRecord[]>> {
  return historiesByLetter(await getJson(audit, '/v1/operator/dead-letter-replays', replayHistory, 'audit has no replay history'));
}

/**
 * The replay histories for `list` and `inspect`, which still show the letters when audit cannot be
 * reached (their replays then unknown); a refusal (token, scope) stays an error: it needs fixing.
 */
async function replayHistoriesIfReachable(): Promise<ReplayHistories> {
  try {
    return await replayHistories();
  } catch (error) {
    if (error instanceof ServiceUnreachableError) return { auditUnreachable: error.reason };
    throw error;
  }
}

/** Asks audit to replay one letter: true if it did, false if it refused as the letter was replayed before. */
async function replayThroughAudit(letter: StoredDeadLetter, force: boolean): Promise<boolean> {
  const answer = await callService(audit, 'POST', '/v1/operator/dead-letters/replay', { partition: letter.partition, offset: letter.offset, force });
  if (answer.status === 200) {
    parseAnswer(audit, answer.body, replayMade);
    return true;
  }
  const refused = replayRefused.safeParse(answer.body);
  if (answer.status === 409 && refused.success) {
    console.log(describeSkipped(letter.offset, refused.data));
    return false;
  }
  throw new Error(describeRefusal(audit, answer.status, answer.body, `the dead-letter topic holds no letter #${letter.offset}`));
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      limit: { type: 'string', default: '50' },
      offset: { type: 'string', multiple: true },
      all: { type: 'boolean' },
      reason: { type: 'string' },
      force: { type: 'boolean', default: false },
    },
  });
  const config = loadConfig('dlq', z.object({ ...kafkaConfig, KAFKA_BROKERS: commaList.prefault(LOCAL_BROKER) }));
  await requireReachable(config.KAFKA_BROKERS);
  await run(positionals[0], values, createKafka(config, 'pinflow-dlq', createLogger('dlq', 'warn')));
}

interface DlqOptions {
  limit: string;
  offset?: string[];
  all?: boolean;
  reason?: string;
  force: boolean;
}

async function run(command: string | undefined, values: DlqOptions, kafka: Kafka): Promise<void> {
  if (command === 'list') {
    const [letters, histories] = await Promise.all([readDeadLetters(kafka), replayHistoriesIfReachable()]);
    for (const line of formatList(letters, DEAD_LETTER_TOPIC, histories)) console.log(line);
  } else if (command === 'inspect') {
    const [letters, histories] = await Promise.all([readDeadLetters(kafka), replayHistoriesIfReachable()]);
    if ('auditUnreachable' in histories) console.log(describeReplaysUnknown(histories));
    for (const letter of letters.slice(-Number(values.limit))) {
      const h = letter.headers;
      console.log(
        `#${letter.offset} ${h[DEAD_LETTER_HEADERS.at]} ${h[DEAD_LETTER_HEADERS.reason]} (${h[DEAD_LETTER_HEADERS.detail]}) ` +
          `from ${h[DEAD_LETTER_HEADERS.topic]}[${h[DEAD_LETTER_HEADERS.partition]}]@${h[DEAD_LETTER_HEADERS.offset]} group ${h[DEAD_LETTER_HEADERS.group]} key ${letter.key}`,
      );
      if (!('auditUnreachable' in histories)) for (const line of formatReplays(histories.get(replayKeyOf(letter)) ?? [])) console.log(line);
      console.log(`  ${masked(letter.value)}`);
    }
  } else if (command === 'replay') {
    if (!values.all && !values.offset) throw new Error('replay needs --offset N (repeatable) or --all');
    const letters = await readDeadLetters(kafka);
    const missing = (values.offset ?? []).filter((offset) => !letters.some((letter) => letter.offset === offset));
    if (missing.length > 0) throw new Error(`no dead letter at offset ${missing.join(', ')} in ${DEAD_LETTER_TOPIC}; nothing replayed`);
    const chosen = letters.filter(
      (letter) =>
        (values.all || (values.offset ?? []).includes(letter.offset)) && (!values.reason || letter.headers[DEAD_LETTER_HEADERS.reason] === values.reason),
    );
    let replayedNow = 0;
    for (const letter of chosen) {
      try {
        if (await replayThroughAudit(letter, values.force)) replayedNow += 1;
      } catch (error) {
        throw new Error(`${(error as Error).message}\nreplayed ${replayedNow} letter(s) before #${letter.offset}; the rest were not (replays go through audit, which records each)`);
      }
    }
    console.log(`replayed ${replayedNow} letter(s)`);
  } else {
    throw new Error('usage: npm run dlq -- list | inspect [--limit N] | replay (--offset N ... | --all) [--reason R] [--force]');
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
