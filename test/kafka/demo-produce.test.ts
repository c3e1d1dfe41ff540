/**
 * `driftwatch demo-produce` (the compose stack's producer) against the real broker: records of the demo model in
 * real time, a lot id per 15 minutes, and the drifted batch after `--drift-after`.
 */
import { Kafka, logLevel } from 'kafkajs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { run } from '../unit/cli/run-cli.js';
import { uniqueTopic, waitForBroker } from './broker.js';

const brokers = inject('kafkaBrokers');
const logDir = inject('kafkaLogDir');
const kafkaError = inject('kafkaError');

beforeAll(async () => {
  if (kafkaError) throw new Error(kafkaError);
  await waitForBroker(brokers, { timeoutMs: 60_000, logDir });
}, 70_000);

describe('driftwatch demo-produce', () => {
  it('streams demo records at the given rate, switching to the drifted batch after --drift-after', async () => {
    const topic = uniqueTopic('demo-produce');
    const started = Date.now();
    const r = await run('demo-produce', '--brokers', brokers, '--topic', topic, '--rate', '200', '--drift-after', '1s', '--duration', '2s');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/drift injected at record 200/);
    // Two seconds at 200 a second: exactly 400 records, whatever the machine's speed.
    const sent = Number(/sent (\d+) records/.exec(r.err)?.[1]);
    expect(sent).toBe(400);

    const kafka = new Kafka({ clientId: 'demo-produce-test', brokers: [brokers], logLevel: logLevel.WARN });
    const consumer = kafka.consumer({ groupId: uniqueTopic('reader'), maxWaitTimeInMs: 200 });
    const records: Array<{ ts: string; model: string; segment: { lot_id: string }; features: Record<string, unknown> }> = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void records.push(JSON.parse(message.value!.toString('utf8'))) });
      const deadline = Date.now() + 20_000;
      while (records.length < sent && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    } finally {
      await consumer.disconnect();
    }
    expect(records).toHaveLength(sent);
    expect(new Set(records.map((x) => x.model))).toEqual(new Set(['press-qa']));
    expect(new Set(records.map((x) => x.segment.lot_id))).toEqual(new Set(['L-2000']));
    // Event time follows the clock, 5 ms apart.
    const ts = records.map((x) => Date.parse(x.ts));
    expect(ts[0]).toBeGreaterThanOrEqual(started - 1000);
    expect(ts[1]! - ts[0]!).toBe(5);
    // Before the drift the temperatures are the reference's (80.6 °C on average in the fixture), after it the drifted
    // batch's (83.8): 200 draws each put the two means well over a degree apart.
    const mean = (xs: unknown[]) => xs.reduce((a: number, b) => a + Number(b), 0) / xs.length;
    const before = mean(records.slice(0, 200).map((x) => x.features['temp_c']));
    const after = mean(records.slice(200).map((x) => x.features['temp_c']));
    expect(after - before).toBeGreaterThan(1.5);
  });
});
