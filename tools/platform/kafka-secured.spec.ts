import { commandTopic, EVENTS_TOPIC, VENDORS } from '@pinflow/contracts';
import { KAFKA_GRANTS, KafkaPrincipal } from './kafka-secured';

/** The principals a grant of `operation` on `topic` reaches, literally or by prefix. */
function principalsThat(operation: 'READ' | 'WRITE', topic: string): KafkaPrincipal[] {
  return (Object.entries(KAFKA_GRANTS) as [KafkaPrincipal, NonNullable<(typeof KAFKA_GRANTS)[KafkaPrincipal]>][])
    .filter(([, grants]) => grants.some((grant) => grant.resource === 'topic' && grant.operations.includes(operation) && (grant.prefix ? topic.startsWith(grant.name) : topic === grant.name)))
    .map(([principal]) => principal)
    .sort();
}

describe("the local broker's ACLs", () => {
  it.each(VENDORS)('let only intake write %s commands, and only its own worker read them', (vendor) => {
    expect(principalsThat('WRITE', commandTopic(vendor))).toEqual(['intake']);
    expect(principalsThat('READ', commandTopic(vendor))).toEqual([`worker-${vendor}`]);
  });

  it('let the workers write outcome events, and intake its refusals; audit only reads them', () => {
    expect(principalsThat('WRITE', EVENTS_TOPIC)).toEqual(['intake', ...VENDORS.map((vendor) => `worker-${vendor}`)].sort());
    expect(principalsThat('READ', EVENTS_TOPIC)).toEqual(['audit', 'intake']);
  });

  it('grant reading and writing topic by topic, never by prefix', () => {
    const broad = Object.values(KAFKA_GRANTS)
      .flat()
      .filter((grant) => grant.prefix && grant.resource === 'topic' && grant.operations.some((operation) => operation === 'READ' || operation === 'WRITE'));
    expect(broad).toEqual([]);
  });
});
