/**
 * The Kafka side of the `Publisher` port (`../core/stream.ts`): an idempotent kafkajs producer (acks from every
 * in-sync replica, the Java-compatible murmur2 partitioner, so that a key lands on the same partition as from any
 * other Kafka client), and a helper that creates missing topics.
 *
 * Concurrent `send` calls on kafkajs's idempotent producer were reported to fail or lose messages (tulios/kafkajs#598
 * OUT_OF_ORDER_SEQUENCE_NUMBER, #1005). 2.2.4 against Kafka 3.9 did not show it (300 concurrent sends, 1 and 3
 * partitions), but `publish` calls still go out one at a time, with one request in flight: output topics carry few
 * messages, and the order of a publisher's calls is kept.
 */
import { Kafka, Partitioners, type IHeaders, type Message, type Producer } from 'kafkajs';
import type { OutgoingMessage, Publisher } from '../core/stream.js';
import { kafkaClientConfig, type KafkaClientOptions } from './kafka.js';

export type KafkaPublisherOptions = KafkaClientOptions;

export interface KafkaPublisher extends Publisher {
  /**
   * Connects now (the producer's connection and its idempotent producer id) instead of at the first publish, so
   * the first drift event does not wait for it and a broker that refuses the producer is reported at start.
   */
  connect(): Promise<void>;
}

export function createKafkaPublisher(options: KafkaPublisherOptions): KafkaPublisher {
  const kafka = new Kafka(kafkaClientConfig(options));
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  let connected: Promise<void> | null = null;
  let closing: Promise<void> | null = null;
  let tail: Promise<unknown> = Promise.resolve();

  const connect = () => {
    connected ??= producer.connect().catch((error: unknown) => {
      connected = null;
      throw error;
    });
    return connected;
  };

  const toMessage = (m: OutgoingMessage): Message => {
    const message: Message = {
      key: m.key,
      value: typeof m.value === 'string' ? m.value : Buffer.from(m.value.buffer, m.value.byteOffset, m.value.byteLength),
    };
    if (m.headers) {
      const headers: IHeaders = {};
      for (const [name, value] of Object.entries(m.headers)) headers[name] = value;
      message.headers = headers;
    }
    return message;
  };

  return {
    description: `kafka:${options.brokers.join(',')}`,

    connect(): Promise<void> {
      if (closing) return Promise.reject(new Error('kafka publisher: closed'));
      return connect();
    },

    publish(topic: string, messages: ReadonlyArray<OutgoingMessage>): Promise<void> {
      if (closing) return Promise.reject(new Error('kafka publisher: closed'));
      if (messages.length === 0) return Promise.resolve();
      const batch = messages.map(toMessage);
      const run = tail.then(async () => {
        await connect();
        await producer.send({ topic, acks: -1, messages: batch });
      });
      tail = run.catch(() => undefined);
      return run;
    },

    close(): Promise<void> {
      closing ??= (async () => {
        await tail;
        if (connected) await connected.catch(() => undefined);
        await producer.disconnect();
      })();
      return closing;
    },
  };
}

/**
 * Creates the topics that do not exist yet; topics that already exist are left as they are, whatever their partition
 * count. The replication factor defaults to min(3, brokers in the cluster): kafkajs speaks CreateTopics up to v3,
 * which cannot ask for the broker's default.
 */
export async function ensureTopics(
  brokers: ReadonlyArray<string>,
  topics: ReadonlyArray<{ readonly topic: string; readonly partitions: number; readonly replicationFactor?: number }>,
  clientOptions: Omit<KafkaClientOptions, 'brokers'>,
): Promise<void> {
  if (topics.length === 0) return;
  const admin = new Kafka(kafkaClientConfig({ ...clientOptions, brokers })).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length === 0) return;
    const clusterSize = (await admin.describeCluster()).brokers.length;
    const replicationFactor = Math.max(1, Math.min(3, clusterSize));
    // createTopics answers false (no error) when every topic already exists: another instance may have won the race.
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.partitions, replicationFactor: t.replicationFactor ?? replicationFactor })),
    });
  } finally {
    await admin.disconnect();
  }
}
