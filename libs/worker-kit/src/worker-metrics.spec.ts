import { scrapeMetrics } from '@pinflow/metrics';
import { observedVendorCall, reportCircuitState, vendorCallLabels } from './worker-metrics';

describe('vendor call metrics', () => {
  it('label an answer by its HTTP status, and a missing one by why it is missing, never by anything in the body', () => {
    expect(vendorCallLabels({ kind: 'answered', status: 422, body: '{"pan":"5500000000000004"}' })).toEqual({ outcome: 'answered', code: '422' });
    expect(vendorCallLabels({ kind: 'unreachable', cause: 'timeout' })).toEqual({ outcome: 'unreachable', code: 'timeout' });
    expect(vendorCallLabels({ kind: 'token_refused', status: 401 })).toEqual({ outcome: 'token_refused', code: '401' });
  });

  it('observe how long each call took (here at least 40 ms), by vendor and outcome', async () => {
    await observedVendorCall('vault', 1, async () => {
      await new Promise((resolve) => setTimeout(resolve, 40));
      return { kind: 'answered', status: 204, body: '' };
    });

    const metrics = await scrapeMetrics();

    expect(metrics).toContain('pinflow_vendor_call_duration_seconds_count{vendor="vault",outcome="answered",code="204"} 1');
    expect(metrics).toMatch(/pinflow_vendor_call_duration_seconds_bucket\{le="0\.025",vendor="vault",outcome="answered",code="204"\} 0/);
    expect(metrics).toContain('pinflow_vendor_call_duration_seconds_bucket{le="+Inf",vendor="vault",outcome="answered",code="204"} 1');
  });
});

describe('the circuit state gauge', () => {
  it('is 1 for the state the vendor’s circuit is in and 0 for the others, so an alert can match state="open"', async () => {
    reportCircuitState('solaris', 'open');

    const metrics = await scrapeMetrics();

    expect(metrics).toContain('pinflow_vendor_circuit_state{vendor="solaris",state="open"} 1');
    expect(metrics).toContain('pinflow_vendor_circuit_state{vendor="solaris",state="closed"} 0');
    expect(metrics).toContain('pinflow_vendor_circuit_state{vendor="solaris",state="half-open"} 0');
  });
});
