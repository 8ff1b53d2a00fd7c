import { EVENT_TYPES } from '@pinflow/contracts';
import { vendorHealth } from './vendor-health';

const at = (minute: number) => `2026-12-04T10:${String(minute).padStart(2, '0')}:00.000Z`;

describe('vendorHealth', () => {
  it('lists every vendor, idle without outcomes, healthy when none failed through the vendor', () => {
    const health = vendorHealth([
      { vendor: 'pismo', type: EVENT_TYPES.passwordChanged, reason: null, count: 9, lastAt: at(5) },
      { vendor: 'pismo', type: EVENT_TYPES.failed, reason: 'CARD_NOT_FOUND', count: 1, lastAt: at(7) },
    ]);

    expect(health.map((vendor) => [vendor.vendor, vendor.verdict])).toEqual([
      ['pismo', 'healthy'],
      ['solaris', 'idle'],
      ['thales-d1', 'idle'],
      ['vault', 'idle'],
    ]);
    expect(health[0]).toEqual({
      vendor: 'pismo',
      verdict: 'healthy',
      succeeded: 9,
      failed: 1,
      vendorFaults: 0,
      failureReasons: [{ reason: 'CARD_NOT_FOUND', count: 1 }],
      lastOutcomeAt: at(7),
    });
    expect(health[1]).toMatchObject({ succeeded: 0, failed: 0, lastOutcomeAt: null });
  });

  it('is degraded by any vendor fault and failing once they are half of the outcomes', () => {
    const health = vendorHealth([
      { vendor: 'vault', type: EVENT_TYPES.passwordChanged, reason: null, count: 3, lastAt: at(1) },
      { vendor: 'vault', type: EVENT_TYPES.failed, reason: 'VENDOR_UNAVAILABLE', count: 1, lastAt: at(2) },
      { vendor: 'solaris', type: EVENT_TYPES.passwordChanged, reason: null, count: 2, lastAt: at(1) },
      { vendor: 'solaris', type: EVENT_TYPES.failed, reason: 'OUTCOME_UNKNOWN', count: 1, lastAt: at(3) },
      { vendor: 'solaris', type: EVENT_TYPES.failed, reason: 'VENDOR_UNAUTHORIZED', count: 1, lastAt: at(4) },
    ]);

    expect(health.find((vendor) => vendor.vendor === 'vault')?.verdict).toBe('degraded');
    expect(health.find((vendor) => vendor.vendor === 'solaris')).toMatchObject({ verdict: 'failing', failed: 2, vendorFaults: 2 });
  });
});
