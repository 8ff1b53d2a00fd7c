import { describeError, isInfrastructureFault } from './dead-letters';

describe('which failures are worth waiting out rather than dead-lettering', () => {
  it.each([
    ['the database unreachable (Prisma P1001)', Object.assign(new Error('x'), { code: 'P1001' })],
    ['a refused connection', Object.assign(new Error('x'), { code: 'ECONNREFUSED' })],
    ['PostgreSQL shutting down (57P01)', Object.assign(new Error('x'), { code: '57P01' })],
    ['a transaction that could not start in time, the pool exhausted (Prisma P2028)', Object.assign(new Error('x'), { code: 'P2028' })],
    ['no pooled connection in time (Prisma P2024)', Object.assign(new Error('x'), { code: 'P2024' })],
    ['a broker error', Object.assign(new Error('x'), { name: 'KafkaJSNumberOfRetriesExceeded' })],
    ['an outage wrapped as the cause', new Error('query failed', { cause: Object.assign(new Error('x'), { code: 'ETIMEDOUT' }) })],
  ])('waits out %s', (_what, error) => {
    expect(isInfrastructureFault(error)).toBe(true);
  });

  it.each([
    ['a bug in the handler', new TypeError('x is undefined')],
    ['a constraint the message breaks (Prisma P2002)', Object.assign(new Error('x'), { code: 'P2002' })],
    ['something thrown that is not an error', 'oops'],
  ])('dead-letters %s once retries are spent', (_what, error) => {
    expect(isInfrastructureFault(error)).toBe(false);
  });
});

describe('what a dead letter says about an error', () => {
  it('names its kind and code but never repeats its message, which may quote data', () => {
    const error = Object.assign(new Error('value 739146 is too long for column x'), { code: 'P2000' });
    expect(describeError(error)).toBe('Error P2000');
    expect(describeError(new RangeError('PIN 739146'))).toBe('RangeError');
  });
});
