import type { AppName } from './stack';
import { VENDOR_NAMES } from './stack';

/**
 * Every port `npm start` opens, from PINFLOW_BASE_PORT (default 8080), so that two stacks can run
 * side by side: intake +0, audit +1, workers +2..+5 (health), Kafka broker +6 and its controller +7,
 * PostgreSQL +8, sandboxes +10..+13; a fifth vendor's worker +14 and sandbox +15, and so on. Tools
 * that talk to that stack (dlq) find it the same way.
 */
export function localPorts(base = Number(process.env.PINFLOW_BASE_PORT ?? 8080)) {
  return {
    kafka: base + 6,
    kafkaController: base + 7,
    postgres: base + 8,
    apps: Object.fromEntries([
      ['intake', base],
      ['audit', base + 1],
      ...VENDOR_NAMES.map((vendor, index) => [`worker-${vendor}`, index < 4 ? base + 2 + index : base + 14 + 2 * (index - 4)]),
      ...VENDOR_NAMES.map((vendor, index) => [`sandbox-${vendor}`, index < 4 ? base + 10 + index : base + 15 + 2 * (index - 4)]),
    ]) as Record<AppName, number>,
  };
}
