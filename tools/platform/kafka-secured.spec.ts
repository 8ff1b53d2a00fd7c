import { commandTopic, EVENTS_TOPIC, requestTopic, VENDORS } from '@pinflow/contracts';
import { KAFKA_GRANTS, KAFKA_REQUESTERS, KafkaPrincipal, KafkaRequesterName } from './kafka-secured';

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

  it.each(Object.keys(KAFKA_REQUESTERS) as KafkaRequesterName[])("let only %s write its request topic, and only intake read it", (requester) => {
    expect(principalsThat('WRITE', requestTopic(requester))).toEqual([requester]);
    expect(principalsThat('READ', requestTopic(requester))).toEqual(['intake']);
  });

  it.each(Object.keys(KAFKA_REQUESTERS) as KafkaRequesterName[])('let only intake write the answers to %s, and only it read them', (requester) => {
    expect(principalsThat('WRITE', KAFKA_REQUESTERS[requester])).toEqual(['intake']);
    expect(principalsThat('READ', KAFKA_REQUESTERS[requester])).toEqual([requester]);
  });

  it('give a requester nothing of pinflow but its own request topic', () => {
    for (const requester of Object.keys(KAFKA_REQUESTERS) as KafkaRequesterName[]) {
      const topics = KAFKA_GRANTS[requester]!.filter((grant) => grant.resource === 'topic' && grant.name.startsWith('pinflow.'));
      expect(topics).toEqual([{ resource: 'topic', name: requestTopic(requester), operations: ['WRITE'] }]);
    }
  });

  it('grant reading and writing topic by topic, never by prefix', () => {
    const broad = Object.values(KAFKA_GRANTS)
      .flat()
      .filter((grant) => grant.prefix && grant.resource === 'topic' && grant.operations.some((operation) => operation === 'READ' || operation === 'WRITE'));
    expect(broad).toEqual([]);
  });
});
