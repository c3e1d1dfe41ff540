/**
 * Which errors the command line reports as Kafka's (exit 4) and which stay driftwatch's own (internal error), on
 * the error objects kafkajs itself builds (its classes, with the fields it sets).
 */
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkaFailure } from '../../../src/cli/kafka-failure.js';
import { main } from '../../../src/cli/main.js';

const { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, KafkaJSSASLAuthenticationError, KafkaJSNonRetriableError } = kafkajs;

// kafkajs's type declarations leave out some constructors' arguments; these are the ones its code passes.
const SaslError = KafkaJSSASLAuthenticationError as unknown as new (message: string) => Error;
const NonRetriable = KafkaJSNonRetriableError as unknown as new (e: Error, o: { cause: Error }) => Error;
const refused = () => new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092', { broker: '127.0.0.1:9092', code: 'ECONNREFUSED' } as never);
const retried = (e: Error) => new KafkaJSNumberOfRetriesExceeded(e, { retryCount: 5, retryTime: 8000 });

describe('kafkaFailure', () => {
  it('brokers that refuse connections, at start (retried until kafkajs gave up) or while running (a write that failed)', () => {
    const line = 'cannot connect to the Kafka brokers (kafka.brokers / KAFKA_BROKERS): broker 127.0.0.1:9092 refused the connection (ECONNREFUSED)';
    expect(kafkaFailure(retried(refused()))).toBe(line);
    expect(kafkaFailure(refused())).toBe(line);
    // As the pipeline passes a failed step on: wrapped with its cause.
    expect(kafkaFailure(new Error('publishing failed', { cause: retried(refused()) }))).toBe(line);
  });

  it('a name that does not resolve, credentials refused, a missing topic', () => {
    const dns = new KafkaJSConnectionError('Connection error: getaddrinfo ENOTFOUND kafka.invalid', { broker: 'kafka.invalid:9092', code: 'ENOTFOUND' } as never);
    expect(kafkaFailure(retried(dns))).toBe('cannot connect to the Kafka brokers (kafka.brokers / KAFKA_BROKERS): broker kafka.invalid:9092 does not resolve (ENOTFOUND)');
    expect(kafkaFailure(new SaslError('SASL PLAIN authentication failed: Authentication failed'))).toMatch(
      /^the Kafka brokers refuse the SASL credentials \(kafka\.sasl \/ KAFKA_SASL_PASSWORD\): SASL PLAIN/,
    );
    const topic = new KafkaJSProtocolError({ message: 'This server does not host this topic-partition', type: 'UNKNOWN_TOPIC_OR_PARTITION', code: 3, retriable: true } as never);
    expect(kafkaFailure(topic)).toBe(
      'Kafka: a topic in kafka.topics does not exist on the brokers (create it, or change kafka.topics): This server does not host this topic-partition (UNKNOWN_TOPIC_OR_PARTITION)',
    );
  });

  it('transient broker errors retried until kafkajs gave up', () => {
    const leader = new KafkaJSProtocolError({ message: 'There is no leader for this topic-partition', type: 'LEADER_NOT_AVAILABLE', code: 5, retriable: true } as never);
    expect(kafkaFailure(retried(leader))).toBe('the Kafka brokers kept failing (kafka.brokers / KAFKA_BROKERS): There is no leader for this topic-partition');
  });

  it('leaves driftwatch\'s own errors alone, also when kafkajs wrapped them (a handler that threw until it gave up)', () => {
    expect(kafkaFailure(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBeNull();
    expect(kafkaFailure(retried(new TypeError("Cannot read properties of undefined (reading 'x')")))).toBeNull();
    const own = new RangeError('bad offset');
    expect(kafkaFailure(new NonRetriable(own, { cause: own }))).toBeNull();
    expect(kafkaFailure('a string')).toBeNull();
    // A request driftwatch got wrong is not the environment's either.
    const invalid = new KafkaJSProtocolError({ message: 'This most likely occurs because of a request being malformed', type: 'INVALID_REQUEST', code: 42, retriable: false } as never);
    expect(kafkaFailure(invalid)).toBeNull();
  });
});

describe('main', () => {
  it('prints an invalid argument commander reported while parsing once (only an action\'s own is printed by main)', async () => {
    let err = '';
    const code = await main(['compare', '--reference', 'a.csv', '--current', 'b.csv', '--threshold', '-1'], { out: () => undefined, err: (s) => (err += s) });
    expect(code).toBe(2);
    expect(err).toMatch(/^error: option '--threshold <t>' argument '-1' is invalid\. --threshold must be a number >= 0, got "-1"\n/);
    expect(err.match(/--threshold must be/g)).toHaveLength(1); // printed once
  });
});
