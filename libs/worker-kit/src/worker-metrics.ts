import type { Vendor } from '@pinflow/contracts';
import { gauge, histogram, ScrapedGauge, secondsSince } from '@pinflow/metrics';
import { inSpan, SpanKind } from '@pinflow/tracing';
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

/**
 * The commands of vendor_commands not yet ended, by state, counted when Prometheus scrapes. Ended ones
 * are not counted: they are the ledger's history, which a scrape must not read (intake's
 * pinflow_request_outcome_seconds counts outcomes).
 */
export const vendorCommandStates = new ScrapedGauge({
  name: 'pinflow_vendor_commands',
  help: "Commands in a vendor's ledger (vendor_commands) not yet ended, by state (CALLING, RETRYING, AWAITING_VENDOR_EVENT)",
  labelNames: ['vendor', 'state'],
});

const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'half-open', 'open'];

/** The labels of a vendor call's outcome: a bounded set (HTTP statuses and a few causes), never anything from the body. */
export function vendorCallLabels(result: VendorCallResult): { outcome: VendorCallResult['kind']; code: string } {
  return { outcome: result.kind, code: result.kind === 'unreachable' ? result.cause : String(result.status) };
}

/** Makes a vendor call timed (pinflow_vendor_call_duration_seconds) and, with tracing on, traced as a client span. */
export function observedVendorCall(vendor: Vendor, attempt: number, call: (attempt: number) => Promise<VendorCallResult>): Promise<VendorCallResult> {
  return inSpan(`${vendor} call`, { kind: SpanKind.CLIENT, attributes: { 'pinflow.vendor': vendor, 'pinflow.attempt': attempt } }, async (span) => {
    const startedAt = performance.now();
    const result = await call(attempt);
    const labels = vendorCallLabels(result);
    vendorCallDuration.observe({ vendor, ...labels }, secondsSince(startedAt));
    span?.setAttributes({ 'pinflow.vendor_call.outcome': labels.outcome, 'pinflow.vendor_call.code': labels.code });
    return result;
  });
}

export function reportCircuitState(vendor: Vendor, current: CircuitState): void {
  for (const state of CIRCUIT_STATES) circuitState.set({ vendor, state }, state === current ? 1 : 0);
}
