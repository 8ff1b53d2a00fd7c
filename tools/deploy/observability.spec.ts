import { repoRoot } from '@pinflow/testing';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/**
 * The alert rules and the Grafana dashboard in deploy/observability query only metrics pinflow
 * exports: a renamed metric would otherwise leave an alert that can never fire, silently.
 */
const OBSERVABILITY_DIR = path.join(repoRoot, 'deploy/observability');

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; description: string };
}

const rules: AlertRule[] = parse(readFileSync(path.join(OBSERVABILITY_DIR, 'pinflow-alerts.yaml'), 'utf8')).groups.flatMap((group: { rules: AlertRule[] }) => group.rules);
const dashboard = JSON.parse(readFileSync(path.join(OBSERVABILITY_DIR, 'pinflow-dashboard.json'), 'utf8'));
const dashboardQueries: string[] = dashboard.panels.flatMap((panel: { targets?: Array<{ expr: string }> }) => (panel.targets ?? []).map((target) => target.expr));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : sourceFiles(file);
    return /(?<!spec)\.ts$/.test(entry.name) ? [file] : [];
  });
}

/** The names pinflow's code declares (`name: 'pinflow_…'`), with the series a histogram adds. */
const exported = new Set(
  [...sourceFiles(path.join(repoRoot, 'libs')), ...sourceFiles(path.join(repoRoot, 'apps'))]
    .flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/name: '(pinflow_[a-z_]+)'/g)].map((match) => match[1]))
    .flatMap((name) => [name, `${name}_bucket`, `${name}_sum`, `${name}_count`]),
);

/** The metric names a PromQL expression reads: pinflow's, and prom-client's default process metrics. */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\b((?:pinflow|nodejs|process)_[a-z0-9_]+)/g)].map((match) => match[1]);
}

describe('deploy/observability', () => {
  it('finds the metrics pinflow declares', () => {
    expect(exported).toContain('pinflow_kafka_consumer_lag');
  });

  it.each(rules.map((rule) => [rule.alert, rule] as const))('alert %s reads only metrics pinflow exports, and says what is wrong and how bad', (_name, rule) => {
    const pinflowMetrics = metricsIn(rule.expr).filter((name) => name.startsWith('pinflow_'));

    expect(pinflowMetrics.length).toBeGreaterThan(0);
    for (const name of pinflowMetrics) expect(exported).toContain(name);
    expect(['warning', 'critical']).toContain(rule.labels.severity);
    expect(rule.annotations.summary).toBeTruthy();
    expect(rule.annotations.description).toBeTruthy();
  });

  it('has the alerts the runbook promises: lag growing, outbox age, breaker open, dead letters, error ratio', () => {
    expect(rules.map((rule) => rule.alert)).toEqual(
      expect.arrayContaining(['PinflowConsumerLagGrowing', 'PinflowOutboxStale', 'PinflowVendorCircuitOpen', 'PinflowDeadLetters', 'PinflowHttpErrorRatio']),
    );
  });

  it('has a dashboard whose every panel query reads metrics pinflow exports (or Node.js process metrics)', () => {
    expect(dashboardQueries.length).toBeGreaterThan(10);
    for (const query of dashboardQueries) {
      const names = metricsIn(query);
      expect(names.length).toBeGreaterThan(0);
      for (const name of names.filter((candidate) => candidate.startsWith('pinflow_'))) expect(exported).toContain(name);
    }
    const ids = dashboard.panels.map((panel: { id: number }) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
