import { InFlightLimit } from './in-flight-limit';

/** A task that runs until it is told to finish. */
function task(log: string[], name: string) {
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  return {
    finish,
    run: async () => {
      log.push(`start ${name}`);
      await finished;
      log.push(`end ${name}`);
      return name;
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('InFlightLimit', () => {
  it('runs at most its limit of tasks at once, and starts the waiting ones in the order they came as places free up', async () => {
    const log: string[] = [];
    const limit = new InFlightLimit(2);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((name) => task(log, name));
    const results = [a, b, c, d].map((each) => limit.run(each.run));
    await settle();
    expect(log).toEqual(['start a', 'start b']);

    b.finish();
    await settle();
    expect(log).toEqual(['start a', 'start b', 'end b', 'start c']);

    a.finish();
    c.finish();
    d.finish();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd']);
    expect(log.filter((entry) => entry.startsWith('start'))).toEqual(['start a', 'start b', 'start c', 'start d']);
  });

  it('frees the place of a task that failed', async () => {
    const limit = new InFlightLimit(1);
    await expect(limit.run(() => Promise.reject(new Error('vendor call failed')))).rejects.toThrow('vendor call failed');
    await expect(limit.run(async () => 'next')).resolves.toBe('next');
  });
});
