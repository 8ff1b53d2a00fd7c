import { VENDOR_NAMES, VendorName } from '@pinflow/platform';
import path from 'node:path';
import { CommandLine } from '@pinflow/platform';
import { DrillResult, runDrill } from './drill';
import { DrillEnvironment, startDrillEnvironment } from './environment';
import { formatTable, runDirectory, writeResults } from './report';
import { scenarioById, SCENARIOS } from './scenarios';

/**
 * `npm run drills`: failure drills on a 3-broker cluster, a throwaway PostgreSQL and the whole stack,
 * each with a steady stream of PIN changes; prints a table and writes JSON to .pinflow/drills/.
 * Options: --scenario N|N,M|all  --commands 2000  --vendors <vendor,…> (default: every vendor)
 *          --rate 20 (changes/s at most)  --recovery 180 (s to wait for outcomes after the fault)
 */
const usage = `usage: npm run drills -- [--scenario N|N,M|all] [--commands 2000] [--vendors ${VENDOR_NAMES.join(',')}] [--rate 20] [--recovery 180]`;

const commandLine: CommandLine = new CommandLine(usage);
const values = commandLine.options({
  scenario: { type: 'string', default: 'all' },
  commands: { type: 'string', default: '2000' },
  vendors: { type: 'string', default: VENDOR_NAMES.join(',') },
  rate: { type: 'string', default: '20' },
  recovery: { type: 'string', default: '180' },
  'log-level': { type: 'string', default: 'info' },
});
const vendors = values.vendors.split(',').map((vendor) => vendor.trim());
for (const vendor of vendors) if (!(VENDOR_NAMES as readonly string[]).includes(vendor)) commandLine.fail(`unknown vendor "${vendor}"`);
let scenarios: typeof SCENARIOS;
try {
  scenarios = values.scenario === 'all' ? SCENARIOS : values.scenario.split(',').map((id) => scenarioById(Number(id)));
} catch (error) {
  commandLine.fail((error as Error).message);
}
const settings = {
  scenarios: scenarios.map((scenario) => scenario.id),
  commands: Math.round(commandLine.positive('commands', values.commands)),
  vendors,
  ratePerSecond: commandLine.positive('rate', values.rate),
  recoverySeconds: commandLine.positive('recovery', values.recovery),
};

async function main(): Promise<void> {
  const log = (line: string) => console.error(`${new Date().toISOString().slice(11, 19)} ${line}`);
  const workDir = runDirectory('run');
  let env: DrillEnvironment | undefined;
  const stop = async () => {
    await env?.stop();
    env = undefined;
  };
  process.once('SIGINT', () => void stop().finally(() => process.exit(130)));
  const results: DrillResult[] = [];
  try {
    env = await startDrillEnvironment({ vendors: vendors as VendorName[], workDir, logLevel: values['log-level'], log });
    for (const scenario of scenarios) {
      results.push(
        await runDrill(env, scenario, {
          commands: settings.commands,
          ratePerSecond: settings.ratePerSecond,
          recoveryWindowMs: settings.recoverySeconds * 1000,
          quietMs: 5_000,
          log,
        }),
      );
    }
  } finally {
    await stop();
    if (results.length > 0) {
      console.log(`\n${formatTable(results)}\n`);
      console.log(`figures: ${writeResults('drills', results, settings)}; service logs: ${path.join(workDir, 'logs')}`);
    }
  }
  if (results.length < scenarios.length || results.some((result) => !result.passed)) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
