import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  defaultEvaluationWorkers,
  describeConfig,
  loadConfig,
  parseConfig,
  type ConfigIssue,
  type DriftwatchConfig,
} from '../../../src/config/index.js';
import { redactUrl } from '../../../src/config/schema.js';
import { StoreError } from '../../../src/core/errors.js';
import { METHOD_NAMES } from '../../../src/drift/methods.js';
import { redactUrl as redactStoreUrl, storeConfigFromEnv } from '../../../src/store/config.js';
import { tempDirs } from '../../helpers/temp-dirs.js';

const methods = METHOD_NAMES;
const repoRoot = resolve(import.meta.dirname, '../../..');
const tempDir = tempDirs('driftwatch-config-');

function parse(text: string, env: Record<string, string> = {}): DriftwatchConfig {
  return parseConfig(text, 'driftwatch.yaml', env, methods, '/srv/dw');
}

/** The issues of a config that must fail. */
function issuesOf(text: string, env: Record<string, string> = {}): ConfigIssue[] {
  try {
    parse(text, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

/** `location path: message` per issue, for compact assertions. */
function lines(issues: ReadonlyArray<ConfigIssue>): string[] {
  return issues.map((i) => `${i.location} ${i.path}: ${i.message}`);
}

describe('defaults', () => {
  it('gives the full default config when there is no file', async () => {
    const cwd = tempDir();
    const { config, file } = await loadConfig({ env: {}, cwd, methods });
    expect(file).toBeNull();
    expect(config).toEqual({
      store: { dataDir: join(cwd, 'data'), clickhouseUrl: null, user: 'default', password: null, database: 'driftwatch' },
      kafka: null,
      http: { enabled: true, host: '127.0.0.1', port: 8080, maxBodyBytes: 16 * 2 ** 20, apiToken: null },
      ingest: { maxRecordBytes: 2 ** 20, maxFutureMs: 3_600_000, maxPastMs: 30 * 86_400_000, unknownModels: 'dead_letter' },
      pipeline: { evaluationWorkers: defaultEvaluationWorkers(), evaluationTimeoutMs: 300_000, resultsWaitMs: 100 },
      windows: {
        type: 'tumbling',
        sizeMs: 300_000,
        slideMs: null,
        count: null,
        time: 'event',
        watermarkDelayMs: 5_000,
        allowedLatenessMs: 60_000,
        idleTimeoutMs: 30_000,
        sampleRows: 1000,
      },
      evaluation: { driftShare: 0.5, method: 'auto', threshold: null, perFeature: {} },
      models: {},
      rollingReferences: [],
      alerts: {
        enabled: true,
        rulesDir: null,
        publicUrl: null,
        delivery: { maxAttempts: 12, maxAgeMs: 86_400_000, baseDelayMs: 1000, maxDelayMs: 300_000, timeoutMs: 10_000 },
      },
    } satisfies DriftwatchConfig);
  });

  it('reads an empty file, a comment-only file and empty sections as defaults', () => {
    const defaults = parse('');
    expect(parse('# nothing here\n')).toEqual(defaults);
    expect(parse('store:\nkafka:\nwindows:\nmodels:\nrolling_references:\n')).toEqual(defaults);
  });

  it('fills a model from the defaults and merges its overrides', () => {
    const config = parse(`
windows: {size: 10m, sample_rows: 50}
evaluation:
  method: psi
  per_feature: {a: {threshold: 0.2}, b: {method: ks}}
models:
  m1:
  m2:
    window: {watermark_delay: 0}
    evaluation:
      threshold: 0.3
      per_feature: {a: {method: wasserstein}, c: {threshold: 1}}
`);
    const m1 = config.models['m1']!;
    expect(m1).toMatchObject({ name: 'm1', kind: 'telemetry', segmentBy: [], features: null, task: null, positiveLabel: null, labelJoinMs: 600_000 });
    expect(m1.window).toEqual(config.windows);
    expect(m1.evaluation).toEqual(config.evaluation);
    const m2 = config.models['m2']!;
    expect(m2.window).toEqual({ ...config.windows, sizeMs: 600_000, sampleRows: 50, watermarkDelayMs: 0 });
    expect(m2.evaluation).toEqual({
      driftShare: 0.5,
      method: 'psi',
      threshold: 0.3,
      perFeature: {
        a: { method: 'wasserstein', threshold: 0.2 },
        b: { method: 'ks', threshold: null },
        c: { method: null, threshold: 1 },
      },
    });
  });
});

describe('the example file', () => {
  it('is valid and sets what it says', async () => {
    const { config, file } = await loadConfig({ file: 'driftwatch.example.yaml', env: {}, cwd: repoRoot, methods });
    expect(file).toBe(join(repoRoot, 'driftwatch.example.yaml'));
    expect(config.kafka).toBeNull();
    expect(config.store.dataDir).toBe(join(repoRoot, 'data'));
    expect(config.http.maxBodyBytes).toBe(16 * 2 ** 20);
    const press = config.models['press-qa']!;
    expect(press.window).toMatchObject({ type: 'hopping', sizeMs: 600_000, slideMs: 60_000, watermarkDelayMs: 5_000 });
    expect(press.evaluation.perFeature['operator_shift']).toEqual({ method: 'chisquare', threshold: 0.01 });
    expect(press.features).toEqual({ temp_c: 'numerical', vibration_rms: 'numerical', operator_shift: 'categorical' });
    expect(config.models['churn-scorer']).toMatchObject({ kind: 'prediction', task: 'classification', positiveLabel: 'churned', labelJoinMs: 3_600_000 });
    expect(config.models['churn-scorer']!.window).toMatchObject({ type: 'count', count: 5000 });
    expect(config.rollingReferences).toEqual([
      { model: 'press-qa', schedule: '0 3 * * *', trailingMs: 7 * 86_400_000, excludeDrifted: true, promote: true, maxRows: 100_000 },
    ]);
  });

  it('switches to Kafka with brokers from the environment', async () => {
    const { config } = await loadConfig({
      file: 'driftwatch.example.yaml',
      env: { KAFKA_BROKERS: 'kafka-1:9092, kafka-2:9093' },
      cwd: repoRoot,
      methods,
    });
    expect(config.kafka).toMatchObject({ brokers: ['kafka-1:9092', 'kafka-2:9093'], clientId: 'driftwatch', sasl: null });
  });
});

describe('finding the file', () => {
  it('takes driftwatch.yaml from the working directory when present', async () => {
    const cwd = tempDir({ 'driftwatch.yaml': 'http: {port: 9999}\n' });
    const { config, file } = await loadConfig({ env: {}, cwd, methods });
    expect(file).toBe(join(cwd, 'driftwatch.yaml'));
    expect(config.http.port).toBe(9999);
  });

  it('prefers the explicit file, then DRIFTWATCH_CONFIG', async () => {
    const cwd = tempDir({ 'driftwatch.yaml': 'http: {port: 1}\n', 'a.yaml': 'http: {port: 2}\n', 'b.yaml': 'http: {port: 3}\n' });
    const env = { DRIFTWATCH_CONFIG: 'b.yaml' };
    expect((await loadConfig({ file: 'a.yaml', env, cwd, methods })).config.http.port).toBe(2);
    expect((await loadConfig({ env, cwd, methods })).config.http.port).toBe(3);
  });

  it('reports a named file that does not exist', async () => {
    const cwd = tempDir();
    const err = await loadConfig({ file: 'missing.yaml', env: {}, cwd, methods }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toEqual([{ location: 'missing.yaml', path: '', message: 'file not found' }]);
    expect((err as ConfigError).message).toBe('missing.yaml: file not found');
    const viaEnv = await loadConfig({ env: { DRIFTWATCH_CONFIG: 'gone.yaml' }, cwd, methods }).catch((e: unknown) => e);
    expect((viaEnv as ConfigError).message).toBe('gone.yaml: file not found (named by env DRIFTWATCH_CONFIG)');
  });

  it('locates problems in the file by the name it was given', async () => {
    const cwd = tempDir({ 'dw.yaml': 'windows:\n  size: soon\n' });
    const err = (await loadConfig({ file: 'dw.yaml', env: {}, cwd, methods }).catch((e: unknown) => e)) as ConfigError;
    expect(err.issues[0]!.location).toBe('dw.yaml:2:9');
  });
});

describe('environment overrides', () => {
  const file = `
store: {data_dir: /var/lib/dw, user: alice}
kafka: {group_id: from-file}
http: {host: localhost, port: 8080}
windows: {size: 5m, time: event}
models:
  press-qa:
    window: {size: 10m}
`;

  it('named variables win over the file', () => {
    const config = parse(file, {
      DRIFTWATCH_DATA_DIR: 'rel/data',
      CLICKHOUSE_URL: 'http://ch:8123',
      CLICKHOUSE_USER: 'bob',
      CLICKHOUSE_DATABASE: 'dw_prod',
      KAFKA_BROKERS: 'k:9092',
      KAFKA_GROUP_ID: 'from-env',
      DRIFTWATCH_HTTP_HOST: '::1',
      DRIFTWATCH_HTTP_PORT: '0',
    });
    expect(config.store).toMatchObject({ dataDir: '/srv/dw/rel/data', clickhouseUrl: 'http://ch:8123', user: 'bob', database: 'dw_prod' });
    expect(config.kafka).toMatchObject({ brokers: ['k:9092'], groupId: 'from-env' });
    expect(config.http).toMatchObject({ host: '::1', port: 0 });
  });

  it('generic DRIFTWATCH__ variables set any path, lists and model names with dashes included', () => {
    const config = parse(file, {
      DRIFTWATCH__WINDOWS__SIZE: '1m',
      DRIFTWATCH__WINDOWS__TIME: 'processing',
      DRIFTWATCH__KAFKA__BROKERS: '[a:1, b:2]',
      DRIFTWATCH__KAFKA__TOPICS__TELEMETRY: '[t1,t2]',
      DRIFTWATCH__KAFKA__TOPICS__DRIFT_EVENTS: 'null',
      'DRIFTWATCH__MODELS__PRESS-QA__WINDOW__SIZE': '20m',
      'DRIFTWATCH__MODELS__NEW-ONE__KIND': 'prediction',
      'DRIFTWATCH__MODELS__NEW-ONE__TASK': 'regression',
      DRIFTWATCH__EVALUATION__PER_FEATURE: '{temp: {method: psi}}',
      DRIFTWATCH__HTTP__ENABLED: 'false',
    });
    expect(config.windows).toMatchObject({ sizeMs: 60_000, time: 'processing' });
    expect(config.kafka?.brokers).toEqual(['a:1', 'b:2']);
    expect(config.kafka?.topics).toMatchObject({ telemetry: ['t1', 't2'], driftEvents: null, deadLetters: 'driftwatch.dead-letters' });
    expect(config.models['press-qa']!.window.sizeMs).toBe(1_200_000);
    expect(config.models['press-qa']!.window.time).toBe('processing');
    expect(config.models['new-one']).toMatchObject({ kind: 'prediction', task: 'regression' });
    expect(config.evaluation.perFeature).toEqual({ temp: { method: 'psi', threshold: null } });
    expect(config.http.enabled).toBe(false);
  });

  it('named variables win over generic ones; empty variables count as unset', () => {
    const config = parse(file, { DRIFTWATCH__HTTP__PORT: '1', DRIFTWATCH_HTTP_PORT: '2', DRIFTWATCH__WINDOWS__SIZE: '', CLICKHOUSE_URL: '' });
    expect(config.http.port).toBe(2);
    expect(config.windows.sizeMs).toBe(300_000);
    expect(config.store.clickhouseUrl).toBeNull();
  });

  it('locates problems in env values at the variable', () => {
    const issues = issuesOf(file, {
      DRIFTWATCH__WINDOWS__SIZE: 'abc',
      DRIFTWATCH_HTTP_PORT: 'eighty',
      KAFKA_BROKERS: 'k:9092,broken',
      DRIFTWATCH__WINDOWS__SIZZE: '1m',
      DRIFTWATCH__KAFKA__TOPICS__TELEMETRY: '[a, b',
      DRIFTWATCH__STORE__DATA_DIR__X: '1',
    });
    // Sorted by variable name.
    expect(lines(issues)).toEqual([
      'env DRIFTWATCH_HTTP_PORT http.port: expected a whole number from 0 to 65535, got "eighty"',
      'env DRIFTWATCH__KAFKA__TOPICS__TELEMETRY kafka.topics.telemetry: cannot be read as a YAML value; quote it ("...") if it is a string, or check the brackets of a [list] or {mapping}',
      'env DRIFTWATCH__STORE__DATA_DIR__X store.data_dir: cannot set store.data_dir.x: store.data_dir is not a mapping',
      'env DRIFTWATCH__WINDOWS__SIZE windows.size: expected a duration such as 30s, 5m or 2h, got "abc"',
      'env DRIFTWATCH__WINDOWS__SIZZE windows.sizze: unknown key; did you mean "size"?',
      'env KAFKA_BROKERS kafka.brokers[1]: expected host:port, got "broken"',
    ]);
  });

  it('locates a cross-field problem at the variable that caused it', () => {
    expect(lines(issuesOf('', { DRIFTWATCH__WINDOWS__TYPE: 'hopping' }))).toEqual([
      'env DRIFTWATCH__WINDOWS__TYPE windows.slide: hopping windows need a slide: how far each window starts after the previous one, e.g. slide: 1m',
    ]);
    expect(lines(issuesOf('', { DRIFTWATCH_HTTP_HOST: '0.0.0.0' }))).toEqual([
      'env DRIFTWATCH_HTTP_HOST http.host: "0.0.0.0" is not a loopback address, so the HTTP API needs a token: set env DRIFTWATCH_API_TOKEN, or bind 127.0.0.1',
    ]);
  });
});

describe('reporting problems', () => {
  it('reports every problem of a file at once, with its line, column and path', () => {
    const text = [
      /*  1 */ 'version: 2',
      /*  2 */ 'windows:',
      /*  3 */ '  type: hopping',
      /*  4 */ '  size: 30',
      /*  5 */ '  watermark_dealy: 5s',
      /*  6 */ 'evaluation:',
      /*  7 */ '  drift_share: 0',
      /*  8 */ '  method: kss',
      /*  9 */ 'models:',
      /* 10 */ '  press-qa:',
      /* 11 */ '    kind: prediction',
      /* 12 */ '    segment_by: [lot_id]',
      /* 13 */ '    features: {lot_id: categorical, temp_c: numerical}',
      /* 14 */ '    window:',
      /* 15 */ '      size: abc',
      /* 16 */ '      slide: 10m',
      /* 17 */ '    evaluation:',
      /* 18 */ '      per_feature:',
      /* 19 */ '        temp_c: {method: nope}',
      /* 20 */ '  other:',
      /* 21 */ '    window: {type: count}',
      /* 22 */ 'http:',
      /* 23 */ '  port: 70000',
      /* 24 */ '  max_body_bytes: 16 MiBs',
      /* 25 */ 'ingest: {max_future: -1h}',
      /* 26 */ 'kafka:',
      /* 27 */ '  brokers: [localhost]',
      /* 28 */ '  ssl: yes',
      /* 29 */ 'rolling_references:',
      /* 30 */ '  - model: press-qa',
      /* 31 */ '    schedule: every day',
      /* 32 */ '  - schedule: "0 3 * * *"',
      /* 33 */ '    trailing: 0s',
    ].join('\n');
    expect(lines(issuesOf(text))).toEqual([
      'driftwatch.yaml:1:10 version: expected 1 (the only config version this build reads), got 2',
      // The slide is missing; the type that needs it is the place.
      'driftwatch.yaml:3:9 windows.slide: hopping windows need a slide: how far each window starts after the previous one, e.g. slide: 1m',
      'driftwatch.yaml:4:9 windows.size: expected a duration such as 30s, 5m or 2h, got 30 (a duration needs a unit: write 30s, 30m or 30ms)',
      'driftwatch.yaml:5:3 windows.watermark_dealy: unknown key; did you mean "watermark_delay"?',
      'driftwatch.yaml:7:16 evaluation.drift_share: expected a number greater than 0 and at most 1, got 0',
      'driftwatch.yaml:8:11 evaluation.method: expected auto, ks, chisquare, z, wasserstein, psi, kl_div, jensenshannon, hellinger, anderson or cramer_von_mises, got "kss"; did you mean "ks"?',
      'driftwatch.yaml:11:11 models.press-qa.task: prediction models need a task: classification or regression',
      'driftwatch.yaml:12:18 models.press-qa.segment_by[0]: "lot_id" is a segment field, so it cannot also be a feature (features.lot_id)',
      'driftwatch.yaml:15:13 models.press-qa.window.size: expected a duration such as 30s, 5m or 2h, got "abc"',
      'driftwatch.yaml:19:26 models.press-qa.evaluation.per_feature.temp_c.method: expected auto, ks, chisquare, z, wasserstein, psi, kl_div, jensenshannon, hellinger, anderson or cramer_von_mises, got "nope"',
      'driftwatch.yaml:21:20 models.other.window.count: count windows need count: the number of records in each window, e.g. count: 10000',
      'driftwatch.yaml:23:9 http.port: expected a whole number from 0 to 65535, got 70000',
      'driftwatch.yaml:24:19 http.max_body_bytes: expected a size in bytes such as 1048576, 512KiB or 16MiB, got "16 MiBs"',
      'driftwatch.yaml:25:22 ingest.max_future: expected a duration such as 30s, 5m or 2h, got "-1h"',
      'driftwatch.yaml:27:13 kafka.brokers[0]: expected host:port, got "localhost"',
      'driftwatch.yaml:28:8 kafka.ssl: expected true or false, got "yes"',
      'driftwatch.yaml:31:15 rolling_references[0].schedule: expected a cron expression with 5 or 6 fields such as "0 3 * * *", got "every day"',
      'driftwatch.yaml:32:5 rolling_references[1].model: missing: expected a model name (letters, digits, "_" and "-", starting with a letter or digit)',
      'driftwatch.yaml:33:15 rolling_references[1].trailing: expected a duration greater than 0, got "0s"',
    ]);
  });

  it('puts one issue per line in the message', () => {
    try {
      parse('windows: {size: 1}\nhttp: {port: -1}\n');
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message.split('\n')).toEqual([
        'driftwatch.yaml:1:17: windows.size: expected a duration such as 30s, 5m or 2h, got 1 (a duration needs a unit: write 1s, 1m or 1ms)',
        'driftwatch.yaml:2:14: http.port: expected a whole number from 0 to 65535, got -1',
      ]);
    }
  });

  it('checks windows across settings: slide needed and not longer than size, count needed', () => {
    expect(lines(issuesOf('windows:\n  type: hopping\n  size: 1m\n  slide: 2m\n'))).toEqual([
      'driftwatch.yaml:4:10 windows.slide: the slide (2m) must not be longer than the window size (1m)',
    ]);
    // A problem of the defaults is reported once, not again for each model that inherits it.
    expect(lines(issuesOf('windows:\n  type: hopping\nmodels:\n  a: {window: {size: 1m}}\n  b:\n    window:\n      type: count\n'))).toEqual([
      'driftwatch.yaml:2:9 windows.slide: hopping windows need a slide: how far each window starts after the previous one, e.g. slide: 1m',
      'driftwatch.yaml:7:13 models.b.window.count: count windows need count: the number of records in each window, e.g. count: 10000',
    ]);
    // An empty value is missing; the key is the place.
    expect(lines(issuesOf('windows:\n  type: hopping\n  slide:\n'))).toEqual([
      'driftwatch.yaml:3:3 windows.slide: hopping windows need a slide: how far each window starts after the previous one, e.g. slide: 1m',
    ]);
    expect(parse('windows: {type: hopping, size: 10m, slide: 1m}').windows).toMatchObject({ type: 'hopping', sizeMs: 600_000, slideMs: 60_000, count: null });
  });

  it('checks prediction settings', () => {
    const issues = issuesOf(`
models:
  a: {kind: telemetry, task: regression}
  b: {kind: prediction, task: regression, positive_label: 1}
  c: {kind: prediction, task: classify}
`);
    expect(lines(issues)).toEqual([
      'driftwatch.yaml:3:30 models.a.task: task applies only to prediction models (kind: prediction)',
      'driftwatch.yaml:4:59 models.b.positive_label: positive_label applies only to classification models',
      'driftwatch.yaml:5:31 models.c.task: expected classification or regression, got "classify"',
    ]);
  });

  it('reports a YAML syntax error with its place and nothing else', () => {
    const issues = issuesOf('windows:\n  size: 5m\nmodels: [a, b\nhttp: {port: nope}\n');
    expect(issues).toHaveLength(1);
    expect(issues[0]!.location).toBe('driftwatch.yaml:4:1');
    expect(issues[0]!.path).toBe('');
    expect(issues[0]!.message).not.toMatch(/\n/);
    expect(issuesOf('a: "open\n')[0]!.location).toMatch(/^driftwatch\.yaml:\d+:\d+$/);
  });

  it('reports duplicate keys with their path, along with the other problems', () => {
    expect(lines(issuesOf('windows:\n  size: 1m\n  size: 2m\nhttp: {port: x}\n'))).toEqual([
      'driftwatch.yaml:3:3 windows.size: duplicate key "size": each key may appear once',
      'driftwatch.yaml:4:14 http.port: expected a whole number from 0 to 65535, got "x"',
    ]);
  });

  it('locates the value of a duplicate key at the one that is read: the last', () => {
    expect(lines(issuesOf('windows:\n  size: 5m\n  size: abc\n'))).toEqual([
      'driftwatch.yaml:3:3 windows.size: duplicate key "size": each key may appear once',
      'driftwatch.yaml:3:9 windows.size: expected a duration such as 30s, 5m or 2h, got "abc"',
    ]);
  });

  it('reports a file with several YAML documents as one problem, at the second', () => {
    expect(lines(issuesOf('windows: {size: 5m}\n---\nhttp: {port: 1}\n'))).toEqual([
      'driftwatch.yaml:2:1 : a second YAML document starts here: the file must hold one document (remove the "---" line, or join the documents)',
    ]);
    expect(parse('---\nhttp: {port: 1}\n').http.port).toBe(1);
  });

  it('bounds durations: a year for windows and waits, 24 days for timers, a century for accepted time', () => {
    const text = [
      'windows: {size: 104000000d, allowed_lateness: 366d}',
      'models:',
      '  m: {label_join: 400d}',
      'pipeline: {evaluation_timeout: 25d}',
      'ingest: {max_past: 36501d}',
      'alerts: {delivery: {timeout: 0, max_delay: 400d}}',
    ].join('\n');
    expect(lines(issuesOf(text))).toEqual([
      'driftwatch.yaml:1:17 windows.size: expected a duration of at most 365d, got "104000000d"',
      'driftwatch.yaml:1:47 windows.allowed_lateness: expected a duration of at most 365d, got "366d"',
      'driftwatch.yaml:3:19 models.m.label_join: expected a duration of at most 365d, got "400d"',
      'driftwatch.yaml:4:32 pipeline.evaluation_timeout: expected a duration of at most 24d, got "25d"',
      'driftwatch.yaml:5:20 ingest.max_past: expected a duration of at most 36500d, got "36501d"',
      'driftwatch.yaml:6:30 alerts.delivery.timeout: expected a duration greater than 0, got 0',
      'driftwatch.yaml:6:44 alerts.delivery.max_delay: expected a duration of at most 365d, got "400d"',
    ]);
    expect(lines(issuesOf('', { DRIFTWATCH__WINDOWS__SIZE: '366d' }))).toEqual(['env DRIFTWATCH__WINDOWS__SIZE windows.size: expected a duration of at most 365d, got "366d"']);
    const config = parse('windows: {type: hopping, size: 365d, slide: 1d}\ningest: {max_past: 3650d}\npipeline: {evaluation_timeout: 24d}\n');
    expect(config.windows).toMatchObject({ sizeMs: 365 * 86_400_000, slideMs: 86_400_000 });
    expect(config.ingest.maxPastMs).toBe(3650 * 86_400_000);
  });

  it('checks the settings of a model whose name is invalid as well', () => {
    expect(lines(issuesOf('models:\n  "bad name!":\n    kind: nope\n    window: {size: abc}\n  ok: {kind: prediction}\n'))).toEqual([
      'driftwatch.yaml:2:3 models.bad name!: expected a model name (letters, digits, "_" and "-", starting with a letter or digit), got "bad name!"',
      'driftwatch.yaml:3:11 models.bad name!.kind: expected telemetry or prediction, got "nope"',
      'driftwatch.yaml:4:20 models.bad name!.window.size: expected a duration such as 30s, 5m or 2h, got "abc"',
      'driftwatch.yaml:5:14 models.ok.task: prediction models need a task: classification or regression',
    ]);
  });

  it('reports unknown keys at the key, suggesting the close one', () => {
    expect(lines(issuesOf('windos:\n  size: 1m\nstore:\n  dataDir: x\nhttp: {colour: red}\n'))).toEqual([
      'driftwatch.yaml:1:1 windos: unknown key; did you mean "windows"?',
      'driftwatch.yaml:4:3 store.dataDir: unknown key; did you mean "data_dir"?',
      'driftwatch.yaml:5:8 http.colour: unknown key; expected enabled, host, port or max_body_bytes',
    ]);
  });

  it('reports a value of the wrong shape', () => {
    expect(lines(issuesOf('- a\n- b\n'))).toEqual(['driftwatch.yaml:1:1 : expected a mapping, got a list']);
    expect(lines(issuesOf('models: [a]\nwindows: 5m\nkafka: {topics: {labels: {a: 1}}}\n'))).toEqual([
      'driftwatch.yaml:1:9 models: expected a mapping, got a list',
      'driftwatch.yaml:2:10 windows: expected a mapping, got "5m"',
      'driftwatch.yaml:3:26 kafka.topics.labels: expected a topic name or a list of topic names, got a mapping',
    ]);
  });

  it('quotes and truncates long received values', () => {
    const long = 'x'.repeat(200);
    const [issue] = issuesOf(`windows: {size: ${long}}`);
    expect(issue!.message).toBe(`expected a duration such as 30s, 5m or 2h, got "${'x'.repeat(40)}..."`);
  });

  it('accepts sizes with units and a zero idle timeout', () => {
    const config = parse('http: {max_body_bytes: 512KiB}\ningest: {max_record_bytes: 10MB}\nkafka: {max_bytes_per_partition: "2048"}\nwindows: {idle_timeout: 0}\n');
    expect(config.http.maxBodyBytes).toBe(512 * 1024);
    expect(config.ingest.maxRecordBytes).toBe(10_000_000);
    expect(config.windows.idleTimeoutMs).toBe(0);
  });

  it('reads the evaluation time limit as a duration greater than 0', () => {
    expect(parse('pipeline: {evaluation_workers: 2, evaluation_timeout: 90s}\n').pipeline).toEqual({ evaluationWorkers: 2, evaluationTimeoutMs: 90_000, resultsWaitMs: 100 });
    expect(lines(issuesOf('pipeline: {evaluation_timeout: 0}\n'))).toEqual([expect.stringMatching(/pipeline\.evaluation_timeout: expected a duration greater than 0/)]);
  });

  it('waits for late results 100 ms by default with the embedded engine, not with a server, and as configured', () => {
    expect(parse('').pipeline.resultsWaitMs).toBe(100);
    expect(parse('store: {clickhouse_url: "http://127.0.0.1:8123"}\n').pipeline.resultsWaitMs).toBeNull();
    expect(parse('pipeline: {results_wait: 250ms}\n').pipeline.resultsWaitMs).toBe(250);
    expect(parse('store: {clickhouse_url: "http://127.0.0.1:8123"}\npipeline: {results_wait: 2s}\n').pipeline.resultsWaitMs).toBe(2000);
    expect(parse('pipeline: {results_wait: 0}\n').pipeline.resultsWaitMs).toBe(0);
    expect(parse('pipeline: {results_wait: null}\n').pipeline.resultsWaitMs).toBeNull();
    expect(lines(issuesOf('pipeline: {results_wait: 100}\n'))).toEqual([expect.stringMatching(/pipeline\.results_wait: .*a duration needs a unit/)]);
    expect(lines(issuesOf('pipeline: {results_wait: soon}\n'))).toEqual([expect.stringMatching(/pipeline\.results_wait: expected a duration/)]);
  });

  it('lets a topic be one string and disables publishing with null', () => {
    const config = parse('kafka:\n  brokers: [k:9092]\n  topics: {telemetry: only.one, drift_events: null, dead_letters: null}\n');
    expect(config.kafka?.topics).toEqual({ telemetry: ['only.one'], predictions: ['driftwatch.predictions'], labels: [], driftEvents: null, deadLetters: null });
  });
});

describe('kafka', () => {
  it('is null without brokers and set with them', () => {
    expect(parse('kafka: {client_id: x}').kafka).toBeNull();
    expect(parse('kafka: {brokers: []}').kafka).toBeNull();
    expect(parse('', { KAFKA_BROKERS: 'a:9092,b:9092' }).kafka).toEqual({
      brokers: ['a:9092', 'b:9092'],
      clientId: 'driftwatch',
      groupId: 'driftwatch',
      fromBeginning: true,
      maxBytesPerPartition: 1_048_576,
      ssl: false,
      sasl: null,
      topics: {
        telemetry: ['driftwatch.telemetry'],
        predictions: ['driftwatch.predictions'],
        labels: [],
        driftEvents: 'driftwatch.drift-events',
        deadLetters: 'driftwatch.dead-letters',
      },
    });
  });

  it('refuses an override that names no broker, instead of silently turning Kafka off', () => {
    const text = 'kafka:\n  brokers: [k:9092]\n';
    expect(lines(issuesOf(text, { KAFKA_BROKERS: ',' }))).toEqual([
      'env KAFKA_BROKERS kafka.brokers: expected at least one broker as host:port (comma-separated), got ","',
    ]);
    expect(lines(issuesOf('', { KAFKA_BROKERS: ' , ' }))).toEqual([
      'env KAFKA_BROKERS kafka.brokers: expected at least one broker as host:port (comma-separated), got " , "',
    ]);
    expect(lines(issuesOf(text, { DRIFTWATCH__KAFKA__BROKERS: '[]' }))).toEqual([
      'env DRIFTWATCH__KAFKA__BROKERS kafka.brokers: expected at least one broker as host:port, got "[]"',
    ]);
    expect(lines(issuesOf(text, { DRIFTWATCH__KAFKA: '{brokers: null}' }))).toEqual([
      'env DRIFTWATCH__KAFKA kafka.brokers: expected at least one broker as host:port, got "{brokers: null}"',
    ]);
    // The file itself may still leave Kafka off; an override of another Kafka setting is not one of the brokers.
    expect(parse('kafka: {brokers: []}').kafka).toBeNull();
    expect(parse(text, { DRIFTWATCH__KAFKA__CLIENT_ID: 'dw-2' }).kafka).toMatchObject({ brokers: ['k:9092'], clientId: 'dw-2' });
  });

  it('takes the SASL password from the environment and requires it', () => {
    const text = 'kafka:\n  brokers: [k:9092]\n  sasl: {mechanism: scram-sha-512, username: dw}\n';
    expect(lines(issuesOf(text))).toEqual(['driftwatch.yaml:3:9 kafka.sasl: SASL needs a password: set env KAFKA_SASL_PASSWORD']);
    expect(parse(text, { KAFKA_SASL_PASSWORD: 'pw' }).kafka?.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'dw', password: 'pw' });
  });
});

describe('secrets', () => {
  const secrets = {
    CLICKHOUSE_PASSWORD: 'ch-secret-1',
    KAFKA_SASL_PASSWORD: 'sasl-secret-2',
    DRIFTWATCH_API_TOKEN: 'token-secret-3',
  };

  it('come only from the environment, and a secret in the file is an issue that does not show it', () => {
    const issues = issuesOf(
      `store:
  password: file-secret-4
kafka:
  sasl: {mechanism: plain, username: u, password: file-secret-5}
http:
  api_token: file-secret-6
`,
      { ...secrets, DRIFTWATCH__HTTP__API_TOKEN: 'env-secret-7', DRIFTWATCH__STORE__PASSWORD: 'env-secret-8' },
    );
    expect(lines(issues)).toEqual([
      'driftwatch.yaml:2:3 store.password: the ClickHouse password is read only from env CLICKHOUSE_PASSWORD; remove it from the file',
      'driftwatch.yaml:4:41 kafka.sasl.password: the SASL password is read only from env KAFKA_SASL_PASSWORD; remove it from the file',
      'driftwatch.yaml:6:3 http.api_token: the API token is read only from env DRIFTWATCH_API_TOKEN; remove it from the file',
      'env DRIFTWATCH__HTTP__API_TOKEN http.api_token: the API token is read only from env DRIFTWATCH_API_TOKEN; remove it from the file',
      'env DRIFTWATCH__STORE__PASSWORD store.password: the ClickHouse password is read only from env CLICKHOUSE_PASSWORD; remove it from the file',
    ]);
    expect(lines(issues).join('\n')).not.toMatch(/secret/);
  });

  it('never appear in messages about other settings, nor in describeConfig', () => {
    const text = 'store: {clickhouse_url: "ftp://u:url-secret-9@ch:8123"}\nhttp: {host: 0.0.0.0}\n';
    const message = lines(issuesOf(text, { KAFKA_SASL_PASSWORD: 'sasl-secret-2', CLICKHOUSE_PASSWORD: 'ch-secret-1' })).join('\n');
    expect(message).toContain('expected an http:// or https:// URL, got "ftp://ch:8123/"');
    expect(message).not.toMatch(/secret/);

    const config = parse('store: {clickhouse_url: "http://ch:8123/?ch_x=url-secret-9"}\nhttp: {host: 0.0.0.0}\nkafka: {brokers: [k:1], sasl: {mechanism: plain, username: dw}}\n', secrets);
    expect(config.store.password).toBe('ch-secret-1');
    expect(config.kafka?.sasl?.password).toBe('sasl-secret-2');
    expect(config.http.apiToken).toBe('token-secret-3');
    const summary = describeConfig(config);
    expect(summary).not.toMatch(/secret/);
    expect(summary).toContain('password set');
    expect(summary).toContain('API token set');
    expect(summary.split('\n').length).toBeLessThan(25);
  });
});

describe('the ClickHouse URL', () => {
  const refused = {
    credentials:
      'expected a URL without user:password, got one with credentials (not shown): set the user with env CLICKHOUSE_USER and the password with env CLICKHOUSE_PASSWORD',
    password:
      'expected a URL without secrets, got one with the query parameter "password" (its value not shown): set the password with env CLICKHOUSE_PASSWORD',
  };

  it('carries no credentials in the file: user:password@ and secret query parameters are located problems that do not show them', () => {
    const text = 'store:\n  clickhouse_url: "http://u:hunter2@ch:8123"\nhttp: {port: x}\n';
    expect(lines(issuesOf(text))).toEqual([
      `driftwatch.yaml:2:19 store.clickhouse_url: ${refused.credentials}`,
      'driftwatch.yaml:3:14 http.port: expected a whole number from 0 to 65535, got "x"',
    ]);
    expect(lines(issuesOf('store: {clickhouse_url: "http://alice@ch:8123"}\n'))).toEqual([`driftwatch.yaml:1:25 store.clickhouse_url: ${refused.credentials}`]);
    expect(lines(issuesOf('store: {clickhouse_url: "http://127.0.0.1:9/?password=hunter2"}\n'))).toEqual([`driftwatch.yaml:1:25 store.clickhouse_url: ${refused.password}`]);
    for (const param of ['access_token', 'http_header_Authorization', 'http_header_X-ClickHouse-Key', 'secret']) {
      const [issue] = issuesOf(`store: {clickhouse_url: "https://ch:8443/?ch_wait_end_of_query=1&${param}=hunter2"}\n`);
      expect(issue!.message).toContain(`query parameter ${JSON.stringify(param)}`);
      expect(issue!.message).not.toContain('hunter2');
    }
  });

  it('carries no credentials from env CLICKHOUSE_URL either: the user and password have their own variables', () => {
    expect(lines(issuesOf('', { CLICKHOUSE_URL: 'http://127.0.0.1:9/?password=hunter2' }))).toEqual([`env CLICKHOUSE_URL store.clickhouse_url: ${refused.password}`]);
    expect(lines(issuesOf('', { CLICKHOUSE_URL: 'http://default:hunter2@ch:8123', CLICKHOUSE_PASSWORD: 'x' }))).toEqual([
      `env CLICKHOUSE_URL store.clickhouse_url: ${refused.credentials}`,
    ]);
    // The store refuses them too, for the commands that read it from env alone (reference, dead-letters).
    expect(() => storeConfigFromEnv({ CLICKHOUSE_URL: 'http://u:hunter2@ch:8123' })).toThrow(StoreError);
    expect(() => storeConfigFromEnv({ CLICKHOUSE_URL: 'http://ch:8123/?password=hunter2' })).toThrow(`store configuration: CLICKHOUSE_URL: ${refused.password}`);
    expect(storeConfigFromEnv({ CLICKHOUSE_URL: 'http://ch:8123/?ch_max_execution_time=60', CLICKHOUSE_USER: 'u', CLICKHOUSE_PASSWORD: 'p' })).toMatchObject({
      engine: 'server',
      username: 'u',
      password: 'p',
    });
  });

  it('is shown without query values or credentials, in the banner and in messages', () => {
    const config = parse('store: {clickhouse_url: "http://ch:8123/?ch_max_execution_time=60&session_id=s1"}\n');
    expect(describeConfig(config).split('\n')[0]).toBe(
      'store: ClickHouse at http://ch:8123/?ch_max_execution_time=***&session_id=***, user default, password not set, database driftwatch',
    );
    // Even a URL that went round validation.
    const unchecked: DriftwatchConfig = { ...config, store: { ...config.store, clickhouseUrl: 'http://u:pw-1@127.0.0.1:9/?password=hunter2#t=x' } };
    expect(describeConfig(unchecked).split('\n')[0]).toBe('store: ClickHouse at http://127.0.0.1:9/?password=***, user default, password not set, database driftwatch');
    for (const redact of [redactUrl, redactStoreUrl]) {
      expect(redact('http://u:pw-1@ch:8123/db?password=hunter2&a=1&a=2#frag')).toBe('http://ch:8123/db?password=***&a=***&a=***');
      expect(redact('http://ch:8123')).toBe('http://ch:8123');
      expect(redact('not a url?password=hunter2')).toBe('not a url');
    }
    expect(lines(issuesOf('store: {clickhouse_url: "ftp://ch/?password=hunter2"}\n'))).toEqual([
      'driftwatch.yaml:1:25 store.clickhouse_url: expected an http:// or https:// URL, got "ftp://ch/?password=***"',
    ]);
  });
});

describe('the store variables', () => {
  it('are checked with the file and reported with its problems, unknown names included', async () => {
    const cwd = tempDir({ 'driftwatch.yaml': 'windows:\n  size: abc\n' });
    const env = {
      DRIFTWATCH_RETENTION_WINDOWS: 'abc',
      DRIFTWATCH_RETENTION_WINDOWZ: '3',
      DRIFTWATCH_RETENTION_SAMPLES: '3',
      DRIFTWATCH_STORE_RETRY_BUDGET_MS: '-1',
      DRIFTWATCH_STORE_RETRIES: '3',
      CLICKHOUSE_REQUEST_TIMEOUT_MS: '0',
      DRIFTWATCH_RETENTION_DEAD_LETTERS: '',
    };
    const err = (await loadConfig({ env, cwd, methods }).catch((e: unknown) => e)) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(lines(err.issues)).toEqual([
      'driftwatch.yaml:2:9 windows.size: expected a duration such as 30s, 5m or 2h, got "abc"',
      'env CLICKHOUSE_REQUEST_TIMEOUT_MS : expected milliseconds from 1 to 2147483647, got "0"',
      'env DRIFTWATCH_RETENTION_SAMPLES : unknown variable; expected DRIFTWATCH_RETENTION_<TABLE> with TABLE one of WINDOWS, WINDOW_FEATURES, WINDOW_OUTLIERS, WINDOW_QUALITY, WINDOW_SAMPLES, DEAD_LETTERS, ALERT_OUTBOX or ALERT_HISTORY',
      'env DRIFTWATCH_RETENTION_WINDOWS : expected whole days from 0 to 36500, got "abc"',
      'env DRIFTWATCH_RETENTION_WINDOWZ : unknown variable; did you mean "DRIFTWATCH_RETENTION_WINDOWS"?',
      'env DRIFTWATCH_STORE_RETRIES : unknown variable; expected DRIFTWATCH_STORE_RETRY_BUDGET_MS',
      'env DRIFTWATCH_STORE_RETRY_BUDGET_MS : expected milliseconds >= 0, got "-1"',
    ]);
    expect(err.message.split('\n')[1]).toBe('env CLICKHOUSE_REQUEST_TIMEOUT_MS: expected milliseconds from 1 to 2147483647, got "0"');
    // Even with a file that is not YAML.
    expect(lines(issuesOf('windows: [\n', { DRIFTWATCH_RETENTION_WINDOWS: 'abc' }))).toContain('env DRIFTWATCH_RETENTION_WINDOWS : expected whole days from 0 to 36500, got "abc"');
    // Good values pass.
    expect(parse('', { DRIFTWATCH_RETENTION_WINDOW_SAMPLES: '14d', DRIFTWATCH_STORE_RETRY_BUDGET_MS: '5000', CLICKHOUSE_REQUEST_TIMEOUT_MS: '60000' }).store.database).toBe('driftwatch');
  });

  it('are refused by the store the same way when it reads them alone', () => {
    expect(() => storeConfigFromEnv({ DRIFTWATCH_RETENTION_WINDOWZ: '3' })).toThrow(
      'store configuration: DRIFTWATCH_RETENTION_WINDOWZ: unknown variable; expected DRIFTWATCH_RETENTION_<TABLE>',
    );
    // ` ` and `d` are not 0 days (keep forever).
    for (const days of [' ', 'd', '1.5', '-1']) {
      expect(() => storeConfigFromEnv({ DRIFTWATCH_RETENTION_WINDOWS: days })).toThrow(`DRIFTWATCH_RETENTION_WINDOWS: expected whole days from 0 to 36500, got ${JSON.stringify(days)}`);
    }
    const config = storeConfigFromEnv({ DRIFTWATCH_RETENTION_WINDOWS: '14d', DRIFTWATCH_RETENTION_DEAD_LETTERS: '0', CLICKHOUSE_URL: '' }, { dataDir: '/tmp/x' });
    expect(config.retentionDays).toMatchObject({ windows: 14, dead_letters: 0 });
  });
});

describe('describeConfig', () => {
  it('summarises the example in a few lines', async () => {
    const { config } = await loadConfig({ file: 'driftwatch.example.yaml', env: {}, cwd: repoRoot, methods });
    const summary = describeConfig(config);
    expect(summary).toContain('kafka: off (no brokers)');
    expect(summary).toContain('http: 127.0.0.1:8080');
    expect(summary).toContain('press-qa: telemetry; segments line; 3 features; hopping 10m every 1m');
    expect(summary).toContain('churn-scorer: prediction (classification)');
    expect(summary).toContain('press-qa: "0 3 * * *", trailing 7d');
  });
});

describe('YAML features', () => {
  it('reads anchors and merge keys, and locates problems inside them', () => {
    const text = `models:
  a:
    window: &hourly {type: hopping, size: 1h, slide: 5m}
  b:
    window:
      <<: *hourly
      slide: 10m
`;
    const config = parse(text);
    expect(config.models['a']!.window).toMatchObject({ type: 'hopping', sizeMs: 3_600_000, slideMs: 300_000 });
    expect(config.models['b']!.window).toMatchObject({ type: 'hopping', sizeMs: 3_600_000, slideMs: 600_000 });
    expect(lines(issuesOf(text.replace('slide: 10m', 'slide: 2h')))).toEqual([
      'driftwatch.yaml:7:14 models.b.window.slide: the slide (2h) must not be longer than the window size (1h)',
    ]);
  });

  it('locates an alias without an anchor and a merge key without a mapping, and still reports every other problem', () => {
    const text = [
      /*  1 */ 'windows:',
      /*  2 */ '  size: 5m',
      /*  3 */ 'evaluation: *nope',
      /*  4 */ 'models:',
      /*  5 */ '  m:',
      /*  6 */ '    <<: 5',
      /*  7 */ '    kind: nope',
      /*  8 */ '  n:',
      /*  9 */ '    <<: *gone',
      /* 10 */ '    window: {type: hopping, size: *later, slide: 1m}',
      /* 11 */ '  o:',
      /* 12 */ '    window:',
      /* 13 */ '      <<: [{size: 1h}, 3]',
      /* 14 */ 'http:',
      /* 15 */ '  port: x',
    ].join('\n');
    expect(lines(issuesOf(text))).toEqual([
      'driftwatch.yaml:3:13 evaluation: unknown alias *nope: no anchor &nope before it (an anchor must come before its aliases)',
      'driftwatch.yaml:6:9 models.m.<<: expected a mapping, an alias of one, or a list of them (after the merge key <<), got 5',
      'driftwatch.yaml:7:11 models.m.kind: expected telemetry or prediction, got "nope"',
      'driftwatch.yaml:9:9 models.n.<<: unknown alias *gone: no anchor &gone before it (an anchor must come before its aliases)',
      'driftwatch.yaml:10:35 models.n.window.size: unknown alias *later: no anchor &later before it (an anchor must come before its aliases)',
      'driftwatch.yaml:13:24 models.o.window.<<[1]: expected a mapping, an alias of one, or a list of them (after the merge key <<), got 3',
      'driftwatch.yaml:15:9 http.port: expected a whole number from 0 to 65535, got "x"',
    ]);
  });
});
