import { metricsRegistry, ScrapedGauge, scrapeMetrics } from './index';

describe('ScrapedGauge', () => {
  const commands = new ScrapedGauge({ name: 'spec_commands', help: 'commands by vendor and state', labelNames: ['vendor', 'state'] });

  it('reads its values from every source when scraped, and only then', async () => {
    let reads = 0;
    commands.readFrom('pismo', async () => {
      reads += 1;
      return [{ labels: { vendor: 'pismo', state: 'SUCCEEDED' }, value: 3 }];
    });
    commands.readFrom('vault', async () => [{ labels: { vendor: 'vault', state: 'RETRYING' }, value: 1 }]);
    expect(reads).toBe(0);

    const metrics = await scrapeMetrics();

    expect(reads).toBe(1);
    expect(metrics).toContain('spec_commands{vendor="pismo",state="SUCCEEDED"} 3');
    expect(metrics).toContain('spec_commands{vendor="vault",state="RETRYING"} 1');
  });

  it('reports only what the sources say now: a state that emptied disappears, a replaced source is no longer read', async () => {
    commands.readFrom('pismo', async () => [{ labels: { vendor: 'pismo', state: 'FAILED' }, value: 2 }]);

    const metrics = await scrapeMetrics();

    expect(metrics).toContain('spec_commands{vendor="pismo",state="FAILED"} 2');
    expect(metrics).not.toContain('state="SUCCEEDED"');
  });

  it('leaves out the values of a source that fails, without failing the scrape', async () => {
    commands.readFrom('pismo', () => Promise.reject(new Error('the database is away')));

    const metrics = await scrapeMetrics();

    expect(metrics).not.toContain('vendor="pismo"');
    expect(metrics).toContain('spec_commands{vendor="vault",state="RETRYING"} 1');
    expect(metrics).toMatch(/^process_cpu_seconds_total /m);
  });

  it('serves Prometheus text format', () => {
    expect(metricsRegistry.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});
