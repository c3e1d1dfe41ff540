/**
 * Kafka failures that are the environment's, not driftwatch's: brokers that cannot be reached (at start, or lost
 * while running), credentials they refuse, topics they do not have. Told apart by kafkajs's error classes and
 * their fields (Node's `code`, the protocol error's `type`) along the `cause` chain, never by the message; an error
 * whose chain ends in one of driftwatch's own (a handler that threw, retried by kafkajs until it gave up) is not one.
 */
import kafkajs from 'kafkajs';

// kafkajs is CommonJS and spreads its error classes into its exports, which Node cannot name for an ES import.
const {
  KafkaJSBrokerNotFound,
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
  KafkaJSSASLAuthenticationError,
} = kafkajs;

const BROKERS = 'kafka.brokers / KAFKA_BROKERS';

/** What a connection error's Node code says about the broker. */
const CONNECTION_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'refused the connection',
  ECONNRESET: 'closed the connection',
  ETIMEDOUT: 'did not answer in time',
  EHOSTUNREACH: 'is unreachable',
  ENETUNREACH: 'is unreachable',
  ENOTFOUND: 'does not resolve',
  EAI_AGAIN: 'could not be resolved (DNS did not answer)',
};

/** Protocol errors that mean the cluster lacks something, or refuses driftwatch, rather than a broken request. */
const PROTOCOL_TYPES: Readonly<Record<string, string>> = {
  UNKNOWN_TOPIC_OR_PARTITION: 'a topic in kafka.topics does not exist on the brokers (create it, or change kafka.topics)',
  TOPIC_AUTHORIZATION_FAILED: 'the brokers refuse driftwatch access to a topic in kafka.topics (ACLs)',
  GROUP_AUTHORIZATION_FAILED: 'the brokers refuse driftwatch access to its consumer group (kafka.group_id / KAFKA_GROUP_ID, ACLs)',
  CLUSTER_AUTHORIZATION_FAILED: 'the brokers refuse driftwatch access to the cluster (ACLs)',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 'the brokers refuse driftwatch\'s producer (ACLs)',
  SASL_AUTHENTICATION_FAILED: 'the brokers refuse the SASL credentials (kafka.sasl / KAFKA_SASL_PASSWORD)',
};

/** The errors `e` wraps, outermost first (kafkajs and driftwatch both chain with `cause`). */
function chain(e: unknown): Error[] {
  const out: Error[] = [];
  for (let x: unknown = e; x instanceof Error && out.length < 8 && !out.includes(x); x = x.cause) out.push(x);
  return out;
}

/** One line saying what is wrong with Kafka, or null when `e` is not a Kafka failure of the environment. */
export function kafkaFailure(e: unknown): string | null {
  const errors = chain(e);
  // kafkajs wraps a handler's own error when it gives up retrying it: then it is driftwatch's.
  const last = errors[errors.length - 1];
  if (last === undefined || !(last instanceof KafkaJSError || last.name === 'KafkaJSNoBrokerAvailableError')) return null;
  for (const x of errors) {
    if (x instanceof KafkaJSSASLAuthenticationError) return `the Kafka brokers refuse the SASL credentials (kafka.sasl / KAFKA_SASL_PASSWORD): ${x.message}`;
    if (x instanceof KafkaJSConnectionError) {
      const code = (x as { code?: unknown }).code;
      const what = typeof code === 'string' && Object.hasOwn(CONNECTION_CODES, code) ? `${CONNECTION_CODES[code]} (${code})` : x.message;
      const broker = typeof x.broker === 'string' && x.broker !== '' ? `broker ${x.broker} ` : '';
      return `cannot connect to the Kafka brokers (${BROKERS}): ${broker}${what}`;
    }
    if (x instanceof KafkaJSRequestTimeoutError) return `cannot connect to the Kafka brokers (${BROKERS}): ${x.broker ? `broker ${x.broker} ` : ''}did not answer in time`;
    if (x instanceof KafkaJSBrokerNotFound || x instanceof KafkaJSGroupCoordinatorNotFound || x.name === 'KafkaJSNoBrokerAvailableError') {
      return `cannot connect to the Kafka brokers (${BROKERS}): ${x.message}`;
    }
    if (x instanceof KafkaJSProtocolError && typeof x.type === 'string' && Object.hasOwn(PROTOCOL_TYPES, x.type)) {
      return `Kafka: ${PROTOCOL_TYPES[x.type]}: ${x.message} (${x.type})`;
    }
  }
  // Transient errors kafkajs retried until it gave up: the cluster is not in a state to serve driftwatch.
  if (errors.some((x) => x instanceof KafkaJSNumberOfRetriesExceeded)) return `the Kafka brokers kept failing (${BROKERS}): ${last.message}`;
  return null;
}
