import { describe, expect, it } from 'vitest';
import { FieldTable, JsonRecordScanner, type ScanPlan } from '../../../src/pipeline/json-record.js';
import { seededRandom } from '../../../src/stats/reservoir.js';

// The scanner is held to JSON.parse (V8's parser, an independent implementation): whatever it reads, it must read
// exactly as JSON.parse reads the same text, and whatever it cannot, it must give up on.

const PLAN: ScanPlan & { readonly name: string } = {
  name: 'm',
  featureTable: new FieldTable(['a', 'b', 'ünï', '__proto__', 'x']),
  segmentTable: new FieldTable(['lot']),
};
const OTHER: ScanPlan & { readonly name: string } = {
  name: 'other',
  featureTable: new FieldTable(['b', 'a']),
  segmentTable: new FieldTable([]),
};
const plans = new Map([
  ['m', PLAN],
  ['other', OTHER],
]);
const planFor = (model: string) => plans.get(model) ?? null;
const TOP = ['ts', 'id', 'model_version', 'prediction', 'label', 'status'] as const;
const TOP_FIELD = { id: 'id', model_version: 'modelVersion', prediction: 'prediction', label: 'label', status: 'status' } as const;

function scan(text: string | Buffer, scanner = new JsonRecordScanner<ScanPlan>()) {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  return { plan: scanner.scan(bytes, 0, bytes.length, planFor), scanner, bytes };
}

/**
 * Checks one text: when the scanner reads it, JSON.parse must read the same text to the same values; returns
 * whether the scanner read it.
 */
function agrees(text: string | Buffer, scanner = new JsonRecordScanner<ScanPlan>()): boolean {
  const { plan, bytes } = scan(text, scanner);
  if (plan === null) return false;
  const parsed = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  expect(plan).toBe(plans.get(parsed.model as string));
  for (const key of TOP) {
    const got = key === 'ts' ? scanner.ts : scanner.top[TOP_FIELD[key]];
    expect(Object.is(got, parsed[key])).toBe(true);
  }
  const features = parsed.features as Record<string, unknown> | null | undefined;
  plan.featureTable.names.forEach((name, j) => {
    const want = features !== null && features !== undefined && Object.hasOwn(features, name) ? features[name] : undefined;
    expect(Object.is(scanner.features[j], want), `feature ${name} of ${text.toString()}`).toBe(true);
  });
  const segment = parsed.segment;
  expect(scanner.segmentObject).toBe(typeof segment === 'object' && segment !== null);
  if (scanner.segmentObject) {
    plan.segmentTable.names.forEach((name, j) => {
      const s = segment as Record<string, unknown>;
      expect(Object.is(scanner.segment[j], Object.hasOwn(s, name) ? s[name] : undefined)).toBe(true);
    });
  }
  return true;
}

const record = (value: string): string => `{"model":"m","features":{"a":${value}}}`;

describe('JsonRecordScanner: numbers', () => {
  it('reads every number exactly as JSON.parse does, bit for bit, in every spelling', () => {
    const random = seededRandom(424242);
    const spellings: string[] = [];
    for (let k = 0; k < 4000; k++) {
      const magnitude = 10 ** Math.floor(random() * 40 - 20);
      const x = (random() * 2 - 1) * magnitude;
      spellings.push(String(x), x.toExponential(Math.floor(random() * 17)), x.toPrecision(1 + Math.floor(random() * 21)));
      if (Math.abs(x) < 1e20) spellings.push(x.toFixed(Math.floor(random() * 12)));
      spellings.push(String(Math.round((random() * 4 - 2) * 1e5) / 1e5));
      spellings.push(String(Math.floor(random() * 2 ** 53)), `${Math.floor(random() * 1e6)}e${Math.floor(random() * 60 - 30)}`);
    }
    spellings.push(
      '0', '-0', '0.0', '-0.0', '0e5', '-0E-5', '1e22', '1e23', '-1e22', '9007199254740992', '9007199254740993',
      '9007199254740991.5', '123456789012345678901234567890', '0.000000000000000000000000000001', '1e-400', '-1e400',
      '1e999', '2.2250738585072011e-308', '2.2250738585072014e-308', '4.9e-324', '5e-324', '1.7976931348623157e308',
      '1.7976931348623159e308', '0.1', '0.2', '0.3', '1E5', '1e+5', '1e-5', '1.5e-7', '17976931348623157e292',
      '1e0000000000000000000001', '1e-0000000000000000000000001', `1${'0'.repeat(400)}`, `0.${'0'.repeat(400)}1`,
      '1763900000000', '1763900000000.5', '-2.00000', '100000000000000000000000', '3.0e-22', '3.0e-23',
      // Digits that sum past 2^53 round in a double, so they are not exact for the fast path whatever the scale.
      '9007.199254740993', '90071.99254740993', '9007199254740993e-22', '9007199254740993e3', '-9007199254740993e-5',
      '9007199254740992e-3', '9007199254740991e-3', '9007199254740995e-10', '18014398509481985e-5',
    );
    // Every placement of the point and every exponent for digit strings just above 2^53.
    for (const digits of ['9007199254740993', '9007199254740995', '9007199254740997', '12345678901234567']) {
      for (let point = 1; point < digits.length; point++) spellings.push(`${digits.slice(0, point)}.${digits.slice(point)}`);
      for (let e = -22; e <= 22; e++) spellings.push(`${digits}e${e}`);
    }
    let read = 0;
    for (const s of spellings) {
      // Every spelling here is JSON; the scanner must read all of it.
      expect(agrees(record(s)), s).toBe(true);
      read++;
    }
    expect(read).toBe(spellings.length);
  });

  it('gives up on what is not a JSON number, as JSON.parse refuses it', () => {
    for (const s of ['01', '-01', '00', '-', '1.', '.5', '+1', '1e', '1e+', '1e-', '--1', '0x10', '1.2.3', '1ee5', '1e5.5', 'NaN', 'Infinity', '-Infinity', '1_000', '١']) {
      expect(scan(record(s)).plan, s).toBeNull();
      expect(() => JSON.parse(record(s)), s).toThrow();
    }
  });
});

describe('JsonRecordScanner: records', () => {
  it('reads the common record, top-level fields, segment and all scalar kinds', () => {
    const scanner = new JsonRecordScanner<ScanPlan>();
    const { plan } = scan(
      '{"model":"m","ts":1763900000000,"id":"r-1","model_version":3,"prediction":0.25,"label":true,"status":"ok",' +
        '"segment":{"lot":"L7","extra":1},"features":{"a":1.5,"b":"B","ünï":null,"__proto__":false,"x":-2e-3,"zz":"ignored"}}',
      scanner,
    );
    expect(plan).toBe(PLAN);
    expect(scanner.features.slice(0, 5)).toEqual([1.5, 'B', null, false, -0.002]);
    expect(scanner.segment[0]).toBe('L7');
    const { id, modelVersion, prediction, label, status } = scanner.top;
    expect([scanner.ts, id, modelVersion, prediction, label, status]).toEqual([1763900000000, 'r-1', 3, 0.25, true, 'ok']);
  });

  it('agrees with JSON.parse on whitespace, key order, repeated features, unknown keys and text', () => {
    const texts = [
      ' \t\r\n{ "model" : "m" , "features" : { "b" : 2 , "a" : 1 } } \r\n',
      '{"model":"m","features":{"a":1,"a":"again","b":2,"b":null}}',
      '{"ts":"2026-01-02T03:04:05Z","unknown":[],"model":"m"}'.replace('[]', '"x"'),
      '{"model":"m","features":null,"segment":null}',
      '{"model":"m","segment":"not an object","features":{}}',
      '{"model":"m","features":{"ünï":"ünï 🚀 text","b":"\u00e9\u4e2d"}}',
      '{"model":"other","features":{"a":1,"b":2}}',
      '{"model":"m","ts":null,"id":null,"label":false,"status":"error","prediction":"yes","stray":true}',
      '{"model":"m","features":{"x":1},"model_version":"v1.2"}',
      '{"model":"m","features":{"\u007f":1,"a":"\u007f"}}',
    ];
    for (const text of texts) expect(agrees(text), text).toBe(true);
    // Invalid UTF-8 inside a string decodes to U+FFFD, as decoding the whole record does before JSON.parse.
    const bad = Buffer.concat([Buffer.from('{"model":"m","features":{"b":"'), Buffer.from([0xc3, 0x28, 0xff, 0xe2, 0x82]), Buffer.from('"}}')]);
    expect(agrees(bad)).toBe(true);
  });

  it('gives up on everything it does not read as JSON.parse would', () => {
    const giveUps = [
      '{"model":"m","features":{"a":"esc\\"aped"}}',
      '{"model":"m","features":{"\\u0061":1}}',
      '{"model":"m","features":{"a":"tab\there"}}',
      '{"features":{"a":1},"model":"m"}',
      '{"segment":{"lot":"L"},"model":"m"}',
      '{"model":"m","model":"other"}',
      '{"model":"m","ts":1,"ts":2}',
      '{"model":"m","features":{"a":{"nested":1}}}',
      '{"model":"m","features":{"a":[1]}}',
      '{"model":"m","features":[1,2]}',
      '{"model":"m","features":"text"}',
      '{"model":"m","extra":{"a":1}}',
      '{"model":"m","features":{"a":NaN}}',
      '{"model":"unknown","features":{"a":1}}',
      '{"model":1}',
      '{"ts":1}',
      '{}',
      '[{"model":"m"}]',
      '{"model":"m"} x',
      '{"model":"m"',
      '{"model":"m",}',
      '{"model":"m","features":{"a":1,}}',
      '{"model" "m"}',
      '\ufeff{"model":"m"}',
      '{"model":"m","features":{"a":tru}}',
      '{"model":"m","features":{"a":nul}}',
      '{"model":"m","features":{"a":1}}{}',
    ];
    for (const text of giveUps) expect(scan(text).plan, text).toBeNull();
  });

  it('reuses one model string for the same bytes, and reads another model afterwards', () => {
    const scanner = new JsonRecordScanner<ScanPlan>();
    const seen: string[] = [];
    const spy = (model: string) => {
      seen.push(model);
      return planFor(model);
    };
    for (const text of ['{"model":"m"}', '{"model":"m"}', '{"model":"other"}', '{"model":"m"}']) {
      const bytes = Buffer.from(text);
      expect(scanner.scan(bytes, 0, bytes.length, spy)).not.toBeNull();
    }
    expect(seen).toEqual(['m', 'm', 'other', 'm']);
    expect(seen[0]).toBe(seen[1]);
  });

  it('remembers the last model by a copy of its bytes, not by a view of memory that may be reused', () => {
    const scanner = new JsonRecordScanner<ScanPlan>();
    const memory = Buffer.from('{"model":"m"}    ');
    expect(scanner.scan(memory, 0, 13, planFor)).toBe(PLAN);
    // The same memory now holds another message, whose model is "o": it must not be taken for "m".
    memory.write('{"model":"o"}', 0, 'latin1');
    const seen: string[] = [];
    scanner.scan(memory, 0, 13, (model) => {
      seen.push(model);
      return null;
    });
    expect(seen).toEqual(['o']);
  });

  it('reads a record inside a larger buffer by its bounds only', () => {
    const bytes = Buffer.from('xx{"model":"m","features":{"a":12}}yy');
    const scanner = new JsonRecordScanner<ScanPlan>();
    expect(scanner.scan(bytes, 2, bytes.length - 2, planFor)).toBe(PLAN);
    expect(scanner.features[0]).toBe(12);
    // A number cut by the record's end is not read past it.
    const cut = Buffer.from('{"model":"m","features":{"a":123}}');
    expect(scanner.scan(cut, 0, cut.length - 4, planFor)).toBeNull();
  });

  it('fuzz: on mutated records it reads only what JSON.parse reads, to the same values, and reads most good ones', () => {
    const random = seededRandom(777);
    const scanner = new JsonRecordScanner<ScanPlan>();
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const scalars = ['1', '-0', '2.5e-3', '"s"', '"ünï"', 'true', 'false', 'null', '1e999', '0.1', '"\\n"', '{}', '[]', 'NaN'];
    const spaces = ['', '', '', ' ', '\n', '\t', '\r\n '];
    let read = 0;
    let good = 0;
    for (let k = 0; k < 6000; k++) {
      const members: string[] = [];
      const model = `"model":${pick(['"m"', '"m"', '"m"', '"other"', '"nope"', '1'])}`;
      const featureNames = ['a', 'b', 'ünï', '__proto__', 'x', 'zz', 'a'];
      const features = featureNames
        .filter(() => random() < 0.7)
        .map((name) => `${pick(spaces)}"${name}"${pick(spaces)}:${pick(spaces)}${pick(scalars)}`);
      const rest = [
        `"ts":${pick(['1763900000000', '"2026-01-02T03:04:05Z"', 'null'])}`,
        `"features":${random() < 0.9 ? `{${features.join(',')}}` : pick(scalars)}`,
        `"segment":${random() < 0.8 ? `{"lot":${pick(scalars)}}` : pick(scalars)}`,
        `"id":${pick(scalars)}`,
        `"prediction":${pick(scalars)}`,
      ].filter(() => random() < 0.8);
      members.push(model, ...rest);
      if (random() < 0.1) members.reverse();
      let text = `${pick(spaces)}{${members.join(`,${pick(spaces)}`)}}${pick(spaces)}`;
      const mutation = random();
      if (mutation < 0.15) text = text.slice(0, Math.floor(random() * text.length));
      else if (mutation < 0.3) {
        const at = Math.floor(random() * text.length);
        text = text.slice(0, at) + pick(['"', ',', '}', '{', ':', '\\', '-', '.', 'e', '0', ' ', '\u0001', 'ü']) + text.slice(at + 1);
      }
      let valid = true;
      try {
        JSON.parse(text);
      } catch {
        valid = false;
      }
      if (agrees(text, scanner)) {
        read++;
        expect(valid).toBe(true);
      }
      if (valid && mutation >= 0.3) good++;
    }
    // The fast path must actually read records here (most valid ones have a nested value, an escape, NaN or an
    // unknown model somewhere, which it leaves to JSON.parse): a scanner that always gave up would pass the checks above.
    expect(read).toBeGreaterThan(good * 0.1);
    expect(read).toBeGreaterThan(300);
  });
});
