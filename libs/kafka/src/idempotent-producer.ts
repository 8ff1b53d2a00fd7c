import { Kafka, Message, Partitioners, PartitionMetadata, Producer, TopicMessages } from 'kafkajs';

interface Session {
  producer: Producer;
  connected: Promise<void>;
}

/**
 * kafkajs' idempotent producer (acks=all, one request in flight), used so that it cannot drop a
 * message silently, which kafkajs 2.2 can do in two ways when brokers fail:
 * - When a produce request fails, kafkajs rolls the partition's sequence number back, even when the
 *   broker had written the batch before the connection broke. The next batch of the same size then
 *   carries the written batch's sequence, and the broker acknowledges it as a duplicate without
 *   writing it. So sends go one at a time (none takes a sequence number while another is failing and
 *   retrying), and after a failed send the producer is replaced by a fresh one (new producer id).
 * - When one send spans several leader brokers and one of them answers "not the leader", kafkajs'
 *   retry only goes to brokers that have not answered yet; messages whose partition moved to a broker
 *   that already answered are never sent, and the send still succeeds (kafkajs PR #1798). So each
 *   request carries one partition's messages, the partition chosen as kafkajs' default partitioner
 *   (murmur2, like Java's) would.
 * The worst a retry can then do is write a message twice, which every pinflow consumer dedupes (event
 * ids, command ids).
 */
export class IdempotentProducer {
  private session?: Session;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly partitioner = Partitioners.DefaultPartitioner();
  private readonly partitions = new Map<string, Promise<PartitionMetadata[]>>();

  constructor(private readonly kafka: Kafka) {}

  connect(): Promise<void> {
    return this.serially(() => this.current().connected);
  }

  /** Sends the messages, partition by partition (kafkajs retries each request itself); throws when one could not be written. */
  sendBatch(topicMessages: TopicMessages[]): Promise<void> {
    return this.serially(async () => {
      const { producer, connected } = this.current();
      await connected;
      for (const request of await this.byPartition(topicMessages)) await producer.sendBatch({ acks: -1, topicMessages: [request] });
    });
  }

  disconnect(): Promise<void> {
    return this.serially(async () => {
      const session = this.session;
      this.session = undefined;
      await session?.producer.disconnect();
    });
  }

  /** The messages grouped into one request per partition, in their order within each partition. */
  private async byPartition(topicMessages: TopicMessages[]): Promise<TopicMessages[]> {
    const requests = new Map<string, TopicMessages>();
    for (const { topic, messages } of topicMessages) {
      const partitionMetadata = await this.partitionsOf(topic);
      for (const message of messages) {
        const partition = this.partitioner({ topic, partitionMetadata, message });
        const key = `${topic}/${partition}`;
        const request = requests.get(key) ?? { topic, messages: [] as Message[] };
        request.messages.push({ ...message, partition });
        requests.set(key, request);
      }
    }
    return [...requests.values()];
  }

  /** A topic's partitions, read once (pinflow sizes its topics at start-up); enough for the partitioner, which needs only their number. */
  private partitionsOf(topic: string): Promise<PartitionMetadata[]> {
    let partitions = this.partitions.get(topic);
    if (!partitions) {
      partitions = this.fetchPartitions(topic);
      this.partitions.set(topic, partitions);
      partitions.catch(() => this.partitions.delete(topic));
    }
    return partitions;
  }

  private async fetchPartitions(topic: string): Promise<PartitionMetadata[]> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      return topics[0].partitions;
    } finally {
      await admin.disconnect();
    }
  }

  private serially(work: () => Promise<void>): Promise<void> {
    const turn = this.queue.then(async () => {
      try {
        await work();
      } catch (error) {
        await this.discard();
        throw error;
      }
    });
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private current(): Session {
    if (!this.session) {
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      this.session = { producer, connected: producer.connect() };
    }
    return this.session;
  }

  private async discard(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.producer.disconnect().catch(() => undefined);
  }
}
