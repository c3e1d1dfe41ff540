/**
 * Vitest global setup: one Kafka broker (test/kafka/broker.ts) for the whole run, stopped in teardown. It is launched
 * here but not waited for, so that its start (about 3 s) overlaps with other test files instead of delaying every
 * run; Kafka tests get its address with `inject('kafkaBrokers')` and wait with `waitForBroker` in `beforeAll`.
 *
 * When the broker cannot even be launched (no Java, jars that cannot be fetched), the other tests still run and the
 * Kafka tests fail with `inject('kafkaError')`.
 *
 * `DRIFTWATCH_KAFKA_BROKERS=host:port` uses a broker that is already running instead of starting one.
 */
import type { TestProject } from 'vitest/node';
import { launchBroker } from './broker.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `127.0.0.1:<port>` of the run's Kafka broker (may still be starting: wait with `waitForBroker`). */
    kafkaBrokers: string;
    /** The broker's temporary folder (its `broker.log` explains a failed start); '' for an external broker. */
    kafkaLogDir: string;
    /** Why there is no broker ('' when there is one). */
    kafkaError: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env['DRIFTWATCH_KAFKA_BROKERS'];
  if (external) {
    project.provide('kafkaBrokers', external);
    project.provide('kafkaLogDir', '');
    project.provide('kafkaError', '');
    return async () => undefined;
  }
  let broker: Awaited<ReturnType<typeof launchBroker>>;
  try {
    broker = await launchBroker();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`driftwatch test Kafka broker not started: ${message}\n`);
    project.provide('kafkaBrokers', '');
    project.provide('kafkaLogDir', '');
    project.provide('kafkaError', `the test Kafka broker could not be launched: ${message}`);
    return async () => undefined;
  }
  let tearingDown = false;
  broker.ready.catch((error: unknown) => {
    if (tearingDown) return; // stopped while starting: a run without Kafka tests
    process.stderr.write(`driftwatch test Kafka broker failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  });
  project.provide('kafkaBrokers', broker.brokers);
  project.provide('kafkaLogDir', broker.logDir);
  project.provide('kafkaError', '');
  return async () => {
    tearingDown = true;
    await broker.stop();
  };
}
