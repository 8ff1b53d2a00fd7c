import { DrillEnvironment, DrillResult, formatTable, runDirectory, runDrill, SCENARIOS, startDrillEnvironment, writeResults } from '@pinflow/drills';
import type { VendorName } from '@pinflow/platform';

/**
 * Nothing lost, nothing doubled: the failure drills of `npm run drills` with small streams. One
 * 3-broker cluster (replication 3, min ISR 2, SASL_SSL only with a principal per service), one
 * throwaway PostgreSQL and one stack serve every drill; each drill resets the sandboxes and uses cards
 * of its own. PINFLOW_DRILL_VENDORS chooses the vendors (default: Pismo and Vault).
 */
const VENDORS = (process.env.PINFLOW_DRILL_VENDORS ?? 'pismo,vault').split(',') as VendorName[];
const DRILL = { commands: 80, ratePerSecond: 20, recoveryWindowMs: 120_000, quietMs: 3_000 };

describe('failure drills: every accepted PIN change ends exactly once, none is lost or applied twice, and only a fault refuses one', () => {
  let env: DrillEnvironment;
  const results: DrillResult[] = [];

  beforeAll(async () => {
    env = await startDrillEnvironment({ vendors: VENDORS, workDir: runDirectory('e2e') });
  }, 300_000);

  afterAll(async () => {
    await env?.stop();
    if (results.length > 0) {
      const file = writeResults('drills-e2e', results, { ...DRILL, vendors: VENDORS });
      console.log(`${formatTable(results)}\n\nfigures: ${file}; service logs: ${env?.logDir}`);
    }
  }, 120_000);

  it.each(SCENARIOS.map((scenario) => [scenario.id, scenario.name, scenario] as const))('%i %s', async (_id, _name, scenario) => {
    const result = await runDrill(env, scenario, DRILL);
    results.push(result);

    expect(result.accepted).toBeGreaterThan(0);
    expect({ lost: result.lost, appliedTwice: result.appliedTwice, terminalOutcomes: result.terminalOutcomes, refusedOutsideFault: result.refusedOutsideFault }).toEqual({
      lost: 0,
      appliedTwice: 0,
      terminalOutcomes: { none: 0, one: result.accepted, many: 0 },
      refusedOutsideFault: 0,
    });
  }, 600_000);
});
