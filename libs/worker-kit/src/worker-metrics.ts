import type { Vendor } from '@pinflow/contracts';
import { gauge, histogram, ScrapedGauge, secondsSince } from '@pinflow/metrics';
import type { VendorCallResult } from '@pinflow/vendor-http';
import type { CircuitState } from './circuit-breaker';

const vendorCallDuration = histogram({
  name: 'pinflow_vendor_call_duration_seconds',
  help: 'Calls to a vendor, by vendor, outcome (answered, unreachable, token_refused) and code (the HTTP status, or why there was no answer), and how long they took',
  labelNames: ['vendor', 'outcome', 'code'],
});

const circuitState = gauge({
  name: 'pinflow_vendor_circuit_state',
  help: "A vendor's circuit breaker: 1 for the state it is in (closed, half-open, open), 0 for the others",
  labelNames: ['vendor', 'state'],
});

/** vendor_commands by state, counted when Prometheus scrapes. */
export const vendorCommandStates = new ScrapedGauge({
  name: 'pinflow_vendor_commands',
  help: "Commands in a vendor's ledger (vendor_commands), by state",
  labelNames: ['vendor', 'state'],
});

const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'half-open', 'open'];

/** The labels of a vendor call's outcome: a bounded set (HTTP statuses and a few causes), never anything from the body. */
export function vendorCallLabels(result: VendorCallResult): { outcome: VendorCallResult['kind']; code: string } {
  return { outcome: result.kind, code: result.kind === 'unreachable' ? result.cause : String(result.status) };
}

export function observeVendorCall(vendor: Vendor, result: VendorCallResult, startedAt: number): void {
  vendorCallDuration.observe({ vendor, ...vendorCallLabels(result) }, secondsSince(startedAt));
}

export function reportCircuitState(vendor: Vendor, current: CircuitState): void {
  for (const state of CIRCUIT_STATES) circuitState.set({ vendor, state }, state === current ? 1 : 0);
}
