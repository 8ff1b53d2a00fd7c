import { repoRoot } from '@pinflow/testing';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DrillResult } from './drill';

const COLUMNS: [string, (result: DrillResult) => string][] = [
  ['scenario', (result) => `${result.scenario.id} ${result.scenario.name}`],
  ['accepted', (result) => String(result.accepted)],
  ['refused (outside the fault)', (result) => `${Object.values(result.refused).reduce((sum, count) => sum + count, 0)} (${result.refusedOutsideFault})`],
  ['outcomes 0/1/>1', (result) => `${result.terminalOutcomes.none}/${result.terminalOutcomes.one}/${result.terminalOutcomes.many}`],
  ['lost', (result) => String(result.lost)],
  ['applied twice', (result) => String(result.appliedTwice)],
  ['wrong outcome', (result) => String(result.wrongOutcome.failedButApplied + result.wrongOutcome.succeededButNotApplied)],
  ['dead letters', (result) => Object.entries(result.deadLetters).map(([reason, count]) => `${reason} ${count}`).join(', ') || '0'],
  ['recovered (s)', (result) => `${result.recoverySeconds.backlogDrained ?? '-'} / ${result.recoverySeconds.lastOutcome ?? '-'}`],
  ['result', (result) => (result.passed ? 'ok' : 'FAILED')],
];

/** The figures as a text table, one row per drill, with each drill's outcomes below it. */
export function formatTable(results: DrillResult[]): string {
  const rows = [COLUMNS.map(([title]) => title), ...results.map((result) => COLUMNS.map(([, cell]) => cell(result)))];
  const widths = COLUMNS.map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const line = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd();
  const details = results.map((result) => {
    const outcomes = Object.entries(result.outcomes)
      .map(([vendor, counts]) => `${vendor}: ${Object.entries(counts!).map(([label, count]) => `${label} ${count}`).join(', ') || 'none'}`)
      .join('; ');
    const { applied, notApplied } = result.unknownOutcomes;
    const many = Object.entries(result.manyOutcomes).map(([sequence, count]) => `${sequence} ${count}`).join(', ');
    const examples = Object.entries(result.examples).flatMap(([finding, found]) => found.map((example) => `${finding}: ${example}`));
    return [
      `${result.scenario.id} ${result.scenario.name}: ${result.scenario.fault}`,
      `   stream ${result.stream.commands} changes in ${result.stream.seconds} s (${result.stream.ratePerSecond}/s) to ${result.vendors.join(', ')}; fault from +${result.faultSeconds.start} s to +${result.faultSeconds.end} s`,
      `   first outcomes: ${outcomes}`,
      ...(many ? [`   more than one outcome: ${many}`] : []),
      ...(applied + notApplied > 0 ? [`   OUTCOME_UNKNOWN, by the sandbox: applied ${applied}, not applied ${notApplied}`] : []),
      `   accepted during the fault ${result.acceptedDuringFault}; accept latency p50/p99/max ${result.acceptLatencyMs.p50}/${result.acceptLatencyMs.p99}/${result.acceptLatencyMs.max} ms${Object.keys(result.refused).length ? `; refused: ${JSON.stringify(result.refused)}` : ''}`,
      ...examples.map((example) => `   ${example}`),
    ].join('\n');
  });
  return [
    line(rows[0]),
    line(widths.map((width) => '-'.repeat(width))),
    ...rows.slice(1).map(line),
    '',
    'refused (outside the fault): never accepted (those whose attempts, first try to last answer, never overlapped the fault)',
    'recovered: seconds from the repair of the fault until everything accepted before it had an outcome / until the last outcome',
    '',
    ...details,
  ].join('\n');
}

/** Where drills keep their figures and each run's service logs. */
export const DRILLS_DIR = path.join(repoRoot, '.pinflow', 'drills');

const stamp = (date: string) => date.replace(/[:.]/g, '-');

/** A new directory for one run's logs and keys: .pinflow/drills/<name>-<time>/. */
export function runDirectory(name: string): string {
  return path.join(DRILLS_DIR, `${name}-${stamp(new Date().toISOString())}`);
}

/** Writes the figures to .pinflow/drills/<name>-<time>.json and returns the file. */
export function writeResults(name: string, results: DrillResult[], settings: Record<string, unknown>): string {
  const date = new Date().toISOString();
  mkdirSync(DRILLS_DIR, { recursive: true });
  const file = path.join(DRILLS_DIR, `${name}-${stamp(date)}.json`);
  const machine = `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`;
  writeFileSync(file, `${JSON.stringify({ date, machine, settings, results }, null, 2)}\n`);
  return file;
}
