import { commaList, loadConfig } from '@pinflow/config';
import {
  createKafka,
  DEAD_LETTER_HEADERS,
  DEAD_LETTER_TOPIC,
  DeadLetterReplays,
  kafkaConfig,
  readDeadLetters,
  replayDeadLetters,
  replayKeyOf,
  type ReplayRecord,
} from '@pinflow/kafka';
import { createSqlPool } from '@pinflow/sql';
import type { Kafka } from 'kafkajs';
import { userInfo } from 'node:os';
import { createLogger } from '@pinflow/logging';
import { localPorts } from '@pinflow/platform';
import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import { z } from 'zod';

/**
 * Operator command for pinflow's dead-letter topic; `npm run ops -- dlq …` runs it too.
 *   npm run dlq -- list                       counts per reason and source topic
 *   npm run dlq -- inspect [--limit 50]       each letter: offset, reason, detail, source; secrets masked
 *   npm run dlq -- replay --offset 12 [--offset 13 …] | --all [--reason HANDLER_FAILED] [--force]
 *                                             republish letters to the topic they came from
 * Reads KAFKA_BROKERS, by default the broker `npm start` runs (moved with PINFLOW_BASE_PORT like it). Replays are safe to repeat: consumers
 * deduplicate on command and event ids. With DATABASE_URL, replays are recorded where audit's console
 * sees them (dead_letter_replays): list and inspect show them, and a letter replayed before is
 * skipped unless --force.
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

/** How a replay names its operator in dead_letter_replays, as audit names the console's by their token's subject. */
const REPLAYED_BY = `ops-cli:${userInfo().username}`;

function replayNote(record: ReplayRecord | undefined): string {
  return record ? ` replayed at ${record.replayedAt} by ${record.replayedBy}` : '';
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
  const command = positionals[0];
  const config = loadConfig('dlq', z.object({ ...kafkaConfig, KAFKA_BROKERS: commaList.prefault(LOCAL_BROKER), DATABASE_URL: z.url().optional() }));
  await requireReachable(config.KAFKA_BROKERS);
  const kafka = createKafka(config, 'pinflow-dlq', createLogger('dlq', 'warn'));
  const pool = config.DATABASE_URL ? createSqlPool(config.DATABASE_URL, 1) : undefined;
  try {
    await run(command, values, kafka, pool && new DeadLetterReplays(pool));
  } finally {
    await pool?.end();
  }
}

interface DlqOptions {
  limit: string;
  offset?: string[];
  all?: boolean;
  reason?: string;
  force: boolean;
}

async function run(command: string | undefined, values: DlqOptions, kafka: Kafka, replays: DeadLetterReplays | undefined): Promise<void> {
  const letters = await readDeadLetters(kafka);
  const records = (await replays?.recordsOf(letters)) ?? new Map<string, ReplayRecord>();

  if (command === 'list') {
    const counts = new Map<string, number>();
    for (const letter of letters) {
      const group = `${letter.headers[DEAD_LETTER_HEADERS.reason]}  from ${letter.headers[DEAD_LETTER_HEADERS.topic]}`;
      counts.set(group, (counts.get(group) ?? 0) + 1);
    }
    console.log(`${letters.length} dead letter(s) in ${DEAD_LETTER_TOPIC}${replays ? `, ${records.size} of them replayed` : ' (set DATABASE_URL to see which were replayed)'}`);
    for (const [group, count] of counts) console.log(`  ${String(count).padStart(6)}  ${group}`);
  } else if (command === 'inspect') {
    for (const letter of letters.slice(-Number(values.limit))) {
      const h = letter.headers;
      console.log(
        `#${letter.offset} ${h[DEAD_LETTER_HEADERS.at]} ${h[DEAD_LETTER_HEADERS.reason]} (${h[DEAD_LETTER_HEADERS.detail]}) ` +
          `from ${h[DEAD_LETTER_HEADERS.topic]}[${h[DEAD_LETTER_HEADERS.partition]}]@${h[DEAD_LETTER_HEADERS.offset]} group ${h[DEAD_LETTER_HEADERS.group]} key ${letter.key}` +
          `${replayNote(records.get(replayKeyOf(letter)))}\n  ${masked(letter.value)}`,
      );
    }
  } else if (command === 'replay') {
    const chosen = letters.filter(
      (letter) =>
        (values.all || (values.offset ?? []).includes(letter.offset)) && (!values.reason || letter.headers[DEAD_LETTER_HEADERS.reason] === values.reason),
    );
    if (!values.all && !values.offset) throw new Error('replay needs --offset N (repeatable) or --all');
    if (!replays) {
      await replayDeadLetters(kafka, chosen);
      console.log(`replayed ${chosen.length} letter(s); not recorded, as DATABASE_URL is not set: the console still offers to replay them`);
      return;
    }
    let replayedNow = 0;
    for (const letter of chosen) {
      const outcome = await replays.replayOnce(kafka, letter, REPLAYED_BY, values.force);
      if (outcome.replayed) replayedNow += 1;
      else console.log(`#${letter.offset} skipped:${replayNote(outcome.record)} (--force replays it again)`);
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
