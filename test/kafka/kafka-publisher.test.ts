/**
 * The Kafka publisher and `ensureTopics` against a real broker (test/kafka/global-setup.ts).
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { Kafka, logLevel, type Admin, type KafkaMessage } from 'kafkajs';
import { createKafkaPublisher, ensureTopics } from '../../src/sources/kafka-publisher.js';
import { uniqueTopic, waitForBroker } from './broker.js';

const brokers = inject('kafkaBrokers');
const logDir = inject('kafkaLogDir');
const kafkaError = inject('kafkaError');

let kafka: Kafka;
let admin: Admin;

beforeAll(async () => {
  if (kafkaError) throw new Error(kafkaError);
  await waitForBroker(brokers, { timeoutMs: 60_000, logDir });
  kafka = new Kafka({ clientId: 'publisher-test', brokers: [brokers], logLevel: logLevel.WARN });
  admin = kafka.admin();
  await admin.connect();
  return () => admin.disconnect();
}, 70_000);

interface Received {
  readonly partition: number;
  readonly message: KafkaMessage;
}

/** Reads a topic from the beginning until `count` messages arrived (bounded). */
async function readAll(topic: string, count: number, timeoutMs = 20_000): Promise<Received[]> {
  const consumer = kafka.consumer({ groupId: uniqueTopic('reader'), maxWaitTimeInMs: 200 });
  const received: Received[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ partition, message }) => void received.push({ partition, message }) });
    const deadline = Date.now() + timeoutMs;
    while (received.length < count) {
      if (Date.now() > deadline) throw new Error(`read ${received.length} of ${count} messages from ${topic} in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
    await new Promise((r) => setTimeout(r, 300)); // and nothing more than that
  } finally {
    await consumer.disconnect();
  }
  return received;
}

const text = (b: Buffer | string | null | undefined) => (b === null || b === undefined ? b : b.toString());

describe('kafka publisher', () => {
  it('ensureTopics creates missing topics and leaves existing ones alone', async () => {
    const t1 = uniqueTopic('pub-ensure-a');
    const t2 = uniqueTopic('pub-ensure-b');
    const options = { clientId: 'ensure-test', log: () => undefined };
    await ensureTopics([brokers], [{ topic: t1, partitions: 3 }], options);
    await ensureTopics([brokers], [{ topic: t1, partitions: 5 }, { topic: t2, partitions: 2 }], options);
    await ensureTopics([brokers], [{ topic: t1, partitions: 3 }, { topic: t2, partitions: 2 }], options);
    const { topics } = await admin.fetchTopicMetadata({ topics: [t1, t2] });
    const partitions = new Map(topics.map((t) => [t.name, t.partitions.length]));
    expect(partitions.get(t1)).toBe(3);
    expect(partitions.get(t2)).toBe(2);
  });

  it('publishes key, value and headers, resolves once acknowledged, and keys pick partitions like Java clients', async () => {
    const topic = uniqueTopic('pub-roundtrip');
    await ensureTopics([brokers], [{ topic, partitions: 3 }], { clientId: 'pub-test' });
    const publisher = createKafkaPublisher({ brokers: [brokers], clientId: 'pub-test', log: () => undefined });
    expect(publisher.description).toBe(`kafka:${brokers}`);
    // Connecting ahead of the first publish, twice, is one connection.
    await publisher.connect();
    await publisher.connect();
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    await publisher.publish(topic, [
      { key: 'model-a', value: '{"drift":0.1}', headers: { 'content-type': 'application/json', 'driftwatch-event': 'drift' } },
      { key: 'model-b', value: bytes.subarray(1, 4) },
      { key: 'model-a', value: '{"drift":0.2}' },
    ]);
    // Acknowledged means already in the log: the end offsets cover the three messages.
    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets.reduce((n, p) => n + Number(p.high), 0)).toBe(3);

    const received = await readAll(topic, 3);
    expect(received).toHaveLength(3);
    const byValue = new Map(received.map((r) => [r.message.value?.toString('hex'), r]));
    const first = byValue.get(Buffer.from('{"drift":0.1}').toString('hex'))!;
    expect(text(first.message.key)).toBe('model-a');
    expect(text(first.message.headers?.['content-type'] as Buffer)).toBe('application/json');
    expect(text(first.message.headers?.['driftwatch-event'] as Buffer)).toBe('drift');
    const binary = byValue.get(Buffer.from([1, 2, 250]).toString('hex'))!;
    expect(text(binary.message.key)).toBe('model-b');
    expect(binary.message.headers).toEqual({});
    const second = byValue.get(Buffer.from('{"drift":0.2}').toString('hex'))!;
    // Same key, same partition, in order.
    expect(second.partition).toBe(first.partition);
    expect(BigInt(second.message.offset)).toBeGreaterThan(BigInt(first.message.offset));
    // murmur2 as in the Java client: toPositive(murmur2("model-a")) % 3 and "model-b".
    expect(first.partition).toBe(javaPartition('model-a', 3));
    expect(binary.partition).toBe(javaPartition('model-b', 3));

    await publisher.close();
    await publisher.close();
    await expect(publisher.publish(topic, [{ key: 'k', value: 'v' }])).rejects.toThrow(/closed/);
    await expect(publisher.connect()).rejects.toThrow(/closed/);
  });

  it('concurrent publish calls all land, each exactly once', async () => {
    const topic = uniqueTopic('pub-concurrent');
    await ensureTopics([brokers], [{ topic, partitions: 2 }], { clientId: 'pub-test' });
    const publisher = createKafkaPublisher({ brokers: [brokers], clientId: 'pub-concurrent', log: () => undefined });
    try {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => publisher.publish(topic, [{ key: `k${i % 5}`, value: `v${i}` }, { key: `k${i % 5}`, value: `w${i}` }])),
      );
    } finally {
      await publisher.close();
    }
    const received = await readAll(topic, 40);
    const values = received.map((r) => text(r.message.value)).sort();
    expect(values).toEqual(Array.from({ length: 20 }, (_, i) => [`v${i}`, `w${i}`]).flat().sort());
  });
});

/** The Java client's partitioner (murmur2, positive, modulo), written out independently of kafkajs. */
function javaPartition(key: string, partitions: number): number {
  const data = Buffer.from(key, 'utf8');
  const m = 0x5bd1e995;
  const r = 24;
  const seed = 0x9747b28c;
  const length = data.length;
  let h = (seed ^ length) | 0;
  const length4 = length >> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = (data[i4]! & 0xff) + ((data[i4 + 1]! & 0xff) << 8) + ((data[i4 + 2]! & 0xff) << 16) + ((data[i4 + 3]! & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const rest = length % 4;
  const index = length & ~3;
  if (rest === 3) h ^= (data[index + 2]! & 0xff) << 16;
  if (rest >= 2) h ^= (data[index + 1]! & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[index]! & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return (h & 0x7fffffff) % partitions;
}
