import { REQUEST_SCHEMAS, RequestType, type PinflowRequest } from '@pinflow/contracts';
import type { SecretSealer } from './secrets';
import { Submissions } from './submissions';

/** Nothing here seals: only which vendor and operation a submission is for is looked at. */
const submissions = new Submissions({} as SecretSealer);
const kindOf = (submission: { fingerprintSource: object }) => {
  const { vendor, operation } = submission.fingerprintSource as { vendor: string; operation: string };
  return `${vendor}.${operation}`;
};

/** The builders the HTTP controllers call, one per HTTP operation: every method but the Kafka door's own. */
const httpBuilders = Object.getOwnPropertyNames(Submissions.prototype).filter((name) => name !== 'constructor' && name !== 'of') as (keyof Submissions)[];

describe('Submissions: both doors take the same operations', () => {
  it.each(httpBuilders)('%s, an operation of the HTTP door, has a request type on the Kafka door', (name) => {
    const build = submissions[name] as (...args: unknown[]) => { fingerprintSource: object };
    // Path parameters first, the body (if it takes one) last: only the kind of submission matters here.
    const args = build.length === 1 ? ['card-1'] : [...Array.from({ length: build.length - 1 }, (_, index) => `id-${index}`), {}];

    expect(Object.keys(REQUEST_SCHEMAS)).toContain(kindOf(build.apply(submissions, args)));
  });

  it.each(Object.keys(REQUEST_SCHEMAS) as RequestType[])('builds a %s request from the Kafka door into a submission of that kind', (type) => {
    const [vendor, operation] = type.split('.');
    const request = { vendor, operation, issuerId: 'issuer-01', cardId: 'card-1', body: {} } as unknown as PinflowRequest;

    expect(kindOf(submissions.of(request))).toBe(type);
  });
});
