import { Kafka, Message, Partitioners, PartitionMetadata, Producer, RecordMetadata, TopicMessages } from 'kafkajs';
import { MESSAGE_SIGNATURE_HEADER, type SignsMessages } from './message-signing';

interface Session {
  producer: Producer;
  connected: Promise<void>;
}

/** A caller's messages waiting for the next request, and how to tell the caller. */
interface PendingSend {
  topicMessages: TopicMessages[];
  messageCount: number;
  settle: (error?: unknown) => void;
}

/** Sends queued while a request is in flight are carried by the next one, up to this many messages. */
const COALESCED_MESSAGES = 1_000;

/** The broker wrote none of a partition's messages although kafkajs reported the send as a success. */
export class UnacknowledgedPartitionError extends Error {
  override readonly name = 'KafkaJSUnacknowledgedPartition';

  constructor(readonly partitions: string[]) {
    super(`the broker did not acknowledge partitions ${partitions.join(', ')} of a send kafkajs reported as written`);
  }
}

/**
 * kafkajs' idempotent producer (acks=all, one request in flight), used so that it cannot drop a
 * message silently, which kafkajs 2.2 can do in two ways when brokers fail:
 * - When a produce request fails, kafkajs rolls the partition's sequence number back, even when the
 *   broker had written the batch before the connection broke. The next batch of the same size then
 *   carries the written batch's sequence, and the broker acknowledges it as a duplicate without
 *   writing it. So one send is in flight at a time (none takes a sequence number while another is
 *   failing and retrying), and after a failed send the producer is replaced by a fresh one (new
 *   producer id).
 * - When one send spans several leader brokers and one of them answers "not the leader", kafkajs'
 *   retry only goes to brokers that have not answered yet; messages whose partition moved to a broker
 *   that already answered are never sent, and the send still succeeds (kafkajs PR #1798). Such a
 *   partition is missing from the send's acknowledgements, so every partition sent must be
 *   acknowledged, or the send counts as failed. (Partitions are chosen here, as kafkajs' default
 *   murmur2 partitioner would, so that the expected set is known.)
 * The worst a retry can then do is write a message twice, which every pinflow consumer dedupes (event
 * ids, command ids).
 *
 * Cost: sends made while one is in flight wait and then leave together in one request (one per leader
 * broker, which kafkajs sends in parallel), so concurrent callers share round trips. A failed request
 * fails every caller whose messages it carried. With `signing`, a request's messages of a topic are
 * signed together as they leave (one signature, see message-signing), so what an outbox kept is
 * signed with the key current when it is sent. With `lingerMs` (Kafka's linger.ms), a send made
 * while nothing is in flight waits that long for company, so that a thin stream is not one request
 * per message either.
 */
export class IdempotentProducer {
  private session?: Session;
  private pending: PendingSend[] = [];
  private inFlight?: Promise<void>;
  private readonly partitioner = Partitioners.DefaultPartitioner();
  private readonly partitions = new Map<string, Promise<PartitionMetadata[]>>();

  constructor(
    private readonly kafka: Kafka,
    private readonly signing?: SignsMessages,
    private readonly lingerMs = 0,
  ) {}

  async connect(): Promise<void> {
    await this.current().connected.catch(async (error) => {
      await this.discard();
      throw error;
    });
  }

  /** Resolves once the broker acknowledged every message; throws when any could not be written. */
  sendBatch(topicMessages: TopicMessages[]): Promise<void> {
    const messageCount = topicMessages.reduce((count, { messages }) => count + messages.length, 0);
    if (messageCount === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ topicMessages, messageCount, settle: (error) => (error === undefined ? resolve() : reject(error)) });
      this.inFlight ??= this.drain();
    });
  }

  /** Waits for the sends already made, then disconnects. */
  async disconnect(): Promise<void> {
    while (this.inFlight) await this.inFlight;
    await this.discard();
  }

  private async drain(): Promise<void> {
    if (this.lingerMs > 0) await new Promise((resolve) => setTimeout(resolve, this.lingerMs));
    while (this.pending.length > 0) {
      const carried = this.takeNextRequest();
      try {
        await this.write(carried.flatMap((send) => send.topicMessages));
        for (const send of carried) send.settle();
      } catch (error) {
        await this.discard();
        for (const send of carried) send.settle(error);
      }
    }
    this.inFlight = undefined;
  }

  /** The waiting sends the next request carries: whole sends, at least one, up to the coalescing limit. */
  private takeNextRequest(): PendingSend[] {
    let count = 0;
    let taken = 0;
    while (taken < this.pending.length && (taken === 0 || count + this.pending[taken].messageCount <= COALESCED_MESSAGES)) {
      count += this.pending[taken].messageCount;
      taken += 1;
    }
    return this.pending.splice(0, taken);
  }

  private async write(topicMessages: TopicMessages[]): Promise<void> {
    const requests = await this.withPartitions(topicMessages);
    const { producer, connected } = this.current();
    await connected;
    const acknowledged = await producer.sendBatch({ acks: -1, topicMessages: requests });
    const unacknowledged = unacknowledgedPartitions(requests, acknowledged);
    if (unacknowledged.length > 0) throw new UnacknowledgedPartitionError(unacknowledged);
  }

  /** The messages per topic, each with the partition kafkajs' default partitioner gives its key, in their order, signed. */
  private async withPartitions(topicMessages: TopicMessages[]): Promise<TopicMessages[]> {
    const byTopic = new Map<string, Message[]>();
    for (const { topic, messages } of topicMessages) {
      const partitionMetadata = await this.partitionsOf(topic);
      const assigned = byTopic.get(topic) ?? [];
      for (const message of messages) assigned.push({ ...message, partition: this.partitioner({ topic, partitionMetadata, message }) });
      byTopic.set(topic, assigned);
    }
    return [...byTopic].map(([topic, messages]) => ({ topic, messages: this.signed(topic, messages) }));
  }

  private signed(topic: string, messages: Message[]): Message[] {
    if (!this.signing) return messages;
    const values = messages.map(({ value }) => (Buffer.isBuffer(value) ? value : Buffer.from(value ?? '')));
    const signatures = this.signing.signBatch(topic, values);
    return messages.map((message, index) => ({ ...message, value: values[index], headers: { ...message.headers, [MESSAGE_SIGNATURE_HEADER]: signatures[index] } }));
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

/** `topic/partition` of every partition the requests wrote to that the broker did not acknowledge without error. */
function unacknowledgedPartitions(requests: TopicMessages[], acknowledged: RecordMetadata[]): string[] {
  const written = new Set(acknowledged.filter((record) => record.errorCode === 0).map((record) => `${record.topicName}/${record.partition}`));
  const sent = new Set(requests.flatMap(({ topic, messages }) => messages.map((message) => `${topic}/${message.partition}`)));
  return [...sent].filter((partition) => !written.has(partition));
}
