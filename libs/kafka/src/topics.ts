import { commandTopic, EVENTS_TOPIC, VENDORS } from '@pinflow/contracts';
import type { Kafka } from 'kafkajs';
import type { KafkaSettings } from './config';
import { DEAD_LETTER_TOPIC } from './dead-letters';

export interface TopicSpec {
  topic: string;
  partitions: number;
}

export function pinflowTopicSpecs(settings: KafkaSettings): TopicSpec[] {
  return [
    ...VENDORS.map((vendor) => ({ topic: commandTopic(vendor), partitions: settings.KAFKA_COMMAND_PARTITIONS })),
    { topic: EVENTS_TOPIC, partitions: settings.KAFKA_EVENT_PARTITIONS },
    { topic: DEAD_LETTER_TOPIC, partitions: 1 },
  ];
}

/**
 * Creates missing topics and grows existing ones to the configured partition count. Shrinking is
 * impossible in Kafka, and growing moves keys between partitions, so it is logged by the caller's
 * broker rather than done silently more than once.
 */
export async function ensureTopics(kafka: Kafka, specs: TopicSpec[], replicationFactor: number): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await ensureTopicsOnce(kafka, specs, replicationFactor);
    } catch (error) {
      // kafkajs waits for a new topic's leaders, but gives up at once when the broker's metadata does
      // not list the topic yet: created a moment ago, it will shortly.
      if ((error as { type?: unknown }).type !== 'UNKNOWN_TOPIC_OR_PARTITION' || attempt >= 10) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

async function ensureTopicsOnce(kafka: Kafka, specs: TopicSpec[], replicationFactor: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((spec) => !existing.has(spec.topic));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((spec) => ({
          topic: spec.topic,
          numPartitions: spec.partitions,
          replicationFactor,
          configEntries: replicationFactor > 1 ? [{ name: 'min.insync.replicas', value: String(Math.min(2, replicationFactor)) }] : [],
        })),
      });
    }
    const present = specs.filter((spec) => existing.has(spec.topic));
    if (present.length > 0) {
      const metadata = await admin.fetchTopicMetadata({ topics: present.map((spec) => spec.topic) });
      const grow = metadata.topics
        .map((topic) => ({ topic: topic.name, have: topic.partitions.length, want: specs.find((s) => s.topic === topic.name)!.partitions }))
        .filter(({ have, want }) => want > have)
        .map(({ topic, want }) => ({ topic, count: want }));
      if (grow.length > 0) await admin.createPartitions({ topicPartitions: grow });
    }
  } finally {
    await admin.disconnect();
  }
}
