/**
 * The only place that knows which engine runs underneath: the embedded engine (chDB, in-process, a data directory)
 * or a ClickHouse server over HTTP. Both are driven through the same `@clickhouse/client` API; nothing else in the
 * store branches on the engine.
 */
import { mkdirSync } from 'node:fs';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { StoreError } from '../../core/errors.js';
import { redactUrl, type StoreConfig } from '../config.js';

type ClientOptions = NonNullable<Parameters<typeof createClient>[0]>;

export interface Connected {
  readonly client: ClickHouseClient;
  readonly description: string;
}

/** The embedded engine binds one data directory per process: a second, different one is refused. */
let embeddedPath: string | null = null;
let embeddedUsers = 0;

export function connect(config: StoreConfig): Connected {
  if (config.engine === 'server') {
    const client = serverClient(config, {
      url: config.url,
      username: config.username,
      password: config.password,
      request_timeout: config.requestTimeoutMs,
      // Below ClickHouse's default keep-alive timeout (3 s), so the client never reuses a socket the server closed.
      keep_alive: { enabled: true, idle_socket_ttl: 2_500 },
      application: 'driftwatch',
      // Failures reach the caller as StoreErrors after the retries; the client's own per-attempt ERROR lines
      // would only repeat them (and could print a query's text).
      log: { level: ClickHouseLogLevel.OFF },
    });
    return { client, description: `server:${redactUrl(config.url)} database ${config.database}` };
  }
  if (embeddedPath !== null && embeddedPath !== config.path) {
    throw new StoreError(
      'bad_config',
      `the embedded engine already uses ${embeddedPath} in this process; it cannot open ${config.path} as well`,
    );
  }
  try {
    mkdirSync(config.path, { recursive: true });
  } catch (e) {
    throw new StoreError('bad_config', `cannot create the data directory ${config.path}: ${(e as Error).message}`, { cause: e });
  }
  let connection;
  try {
    connection = createChdbConnection({ path: config.path });
  } catch (e) {
    throw new StoreError('unavailable', `cannot open the embedded engine in ${config.path}: ${(e as Error).message}`, { cause: e });
  }
  embeddedPath = config.path;
  embeddedUsers++;
  // chdb types its connection against its own copy of @clickhouse/client-common; the shapes are the same.
  const client = createClient({ connection: connection as unknown as NonNullable<ClientOptions['connection']> });
  const close = client.close.bind(client);
  let closed = false;
  // The engine stays bound to its directory for the life of the process; closing the last client frees the slot
  // for the same path only.
  Object.defineProperty(client, 'close', {
    value: async () => {
      if (closed) return;
      closed = true;
      await close();
      if (--embeddedUsers === 0) embeddedPath = null;
    },
  });
  return { client, description: `embedded:${config.path} database ${config.database}` };
}

/**
 * The server's client; a URL the client refuses (query parameters it does not know) is the store configuration
 * error it is, naming the parameters, never their values (a `?password=...` stays out of logs).
 */
function serverClient(config: Extract<StoreConfig, { engine: 'server' }>, options: ClientOptions): ClickHouseClient {
  try {
    return createClient(options);
  } catch (e) {
    const names = [...new Set(new URL(config.url).searchParams.keys())];
    throw new StoreError(
      'bad_config',
      names.length > 0
        ? `store configuration: CLICKHOUSE_URL: the ClickHouse client does not accept the URL's parameters (${names.join(', ')}); ` +
            'the user, password and database go in CLICKHOUSE_USER, CLICKHOUSE_PASSWORD and CLICKHOUSE_DATABASE'
        : 'store configuration: CLICKHOUSE_URL: the ClickHouse client does not accept the URL',
      { cause: e },
    );
  }
}
