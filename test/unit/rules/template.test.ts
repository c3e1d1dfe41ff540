import { describe, expect, it } from 'vitest';
import {
  TEMPLATE_VARIABLES,
  checkTemplateValue,
  compileTemplate,
  renderTemplateValue,
  type TemplateContext,
} from '../../../src/rules/template.js';

const END = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

const ctx: TemplateContext = {
  model: 'press-qa',
  model_version: 'v7',
  rule: 'drift',
  severity: 'warning',
  feature: 'Temp',
  value: 0.1234,
  score: 0.1234,
  threshold: 0.3,
  segment: { lot_id: 'L-1042' },
  window: { start: '2026-01-02T02:04:05.678Z', end: new Date(END).toISOString(), count: 120, date: '2026-01-02' },
  labels: { team: 'ml' },
  alerts_count: 3,
  since: END,
  status: 'firing',
  method: null,
  report_url: '',
};

function render(text: string, c: TemplateContext = ctx): string {
  const compiled = compileTemplate(text);
  if (!compiled.ok) throw new Error(compiled.error);
  return compiled.render(c);
}

function error(text: string): string {
  const compiled = compileTemplate(text);
  if (compiled.ok) throw new Error(`expected an error for ${text}`);
  return compiled.error;
}

describe('compileTemplate: rendering', () => {
  it('substitutes dotted paths with or without whitespace', () => {
    expect(render('{{model}} / {{ segment.lot_id }} / {{  labels.team  }}')).toBe('press-qa / L-1042 / ml');
    expect(render('no placeholders }} here')).toBe('no placeholders }} here');
  });

  it('lists the variables used, once each', () => {
    const c = compileTemplate('{{ model }} {{ window.end | date }} {{ model }}');
    expect(c.ok && c.variables).toEqual(['model', 'window.end']);
  });

  it('renders missing values and null as empty, numbers with String()', () => {
    expect(render('[{{ segment.nope }}][{{ method }}][{{ value }}][{{ alerts_count }}]')).toBe('[][][0.1234][3]');
    expect(render('[{{ segment }}]')).toBe('[{"lot_id":"L-1042"}]');
  });

  it('date, datetime and time from epoch ms and ISO strings, in UTC', () => {
    expect(render('{{ since | date }}')).toBe('2026-01-02');
    expect(render('{{ since | datetime }}')).toBe('2026-01-02T03:04:05.678Z');
    expect(render('{{ since | time }}')).toBe('03:04:05');
    expect(render('{{ window.end | date }}')).toBe('2026-01-02');
    expect(render('{{ window.start | time }}')).toBe('02:04:05');
    expect(render('{{ model | date }}')).toBe('press-qa'); // not a time: unchanged
  });

  it('percent and fixed', () => {
    expect(render('{{ value | percent }}')).toBe('12.3%');
    expect(render('{{ value | fixed2 }}|{{ value | fixed3 }}|{{ value | fixed4 }}')).toBe('0.12|0.123|0.1234');
    expect(render('{{ threshold | percent }}')).toBe('30.0%');
    expect(render('[{{ segment.none | percent }}]')).toBe('[]');
  });

  it('upper, lower, json, default_dash and chains', () => {
    expect(render('{{ feature | upper }} {{ feature | lower }}')).toBe('TEMP temp');
    expect(render('{{ segment | json }}')).toBe('{"lot_id":"L-1042"}');
    expect(render('{{ model | json }}')).toBe('"press-qa"');
    expect(render('{{ method | default_dash }}|{{ report_url | default_dash }}|{{ segment.x | default_dash }}|{{ model | default_dash }}')).toBe(
      '-|-|-|press-qa',
    );
    expect(render('{{ window.end | date | upper }}')).toBe('2026-01-02');
    expect(render('{{ feature|lower|upper }}')).toBe('TEMP');
    expect(render('{{ value|percent|upper }}')).toBe('12.3%');
  });

  it('accepts every listed top-level variable', () => {
    for (const v of TEMPLATE_VARIABLES) expect(compileTemplate(`{{ ${v} }}`).ok).toBe(true);
    expect(TEMPLATE_VARIABLES).toContain('features');
    expect(TEMPLATE_VARIABLES).toContain('since');
  });
});

describe('compileTemplate: errors', () => {
  it('unknown filter, with its column and the list of filters', () => {
    const e = error('{{ window.end | dat }}');
    expect(e).toMatch(/^unknown filter "dat" at column 17 \(filters: date, datetime, time, percent, fixed2, fixed3, fixed4, upper, lower, json, default_dash\)$/);
  });

  it('unknown variable, with did-you-mean', () => {
    expect(error('{{modle}}')).toBe('unknown variable "modle" at column 3 (did you mean "model"?)');
    expect(error('ab {{ segmnt.lot_id }}')).toBe('unknown variable "segmnt" at column 7 (did you mean "segment"?)');
    expect(error('{{ zzzzzzzz }}')).toMatch(/^unknown variable "zzzzzzzz" at column 4 \(variables: model, /);
  });

  it('unclosed braces, empty expressions and filters, invalid paths', () => {
    expect(error('abcd{{ model')).toBe('unclosed "{{" at column 5');
    expect(error('{{ }}')).toBe('empty expression at column 1');
    expect(error('{{ model | }}')).toBe('empty filter at column 11');
    expect(error('{{ a..b }}')).toMatch(/^invalid variable "a\.\.b" at column 4/);
    expect(error('{{ model-x }}')).toMatch(/^invalid variable "model-x"/);
  });

  it('reports every error, with line and column in multi-line text', () => {
    const e = error('{{ modle }}\n  {{ model | nope }}');
    expect(e).toContain('unknown variable "modle" at line 1, column 4');
    expect(e).toContain('unknown filter "nope" at line 2, column 14');
  });
});

describe('checkTemplateValue', () => {
  it('returns nothing for valid values and non-strings', () => {
    expect(checkTemplateValue({ a: '{{ model }}', b: [1, true, null, '{{ window.end | date }}'] })).toEqual([]);
    expect(checkTemplateValue(42)).toEqual([]);
  });

  it('prefixes nested messages with their JSON path', () => {
    const errors = checkTemplateValue({ conf: { lot_id: '{{ segmnt.lot_id }}', list: ['ok', '{{ model | nope }}'] }, top: '{{' });
    expect(errors).toEqual([
      'conf.lot_id: unknown variable "segmnt" at column 4 (did you mean "segment"?)',
      expect.stringMatching(/^conf\.list\[1\]: unknown filter "nope" at column 12/),
      'top: unclosed "{{" at column 1',
    ]);
    expect(checkTemplateValue('{{ modle }}')).toEqual(['unknown variable "modle" at column 4 (did you mean "model"?)']);
  });
});

describe('renderTemplateValue', () => {
  it('renders every string and keeps numbers and booleans of single plain variables', () => {
    const out = renderTemplateValue(
      {
        model: '{{ model }}',
        threshold: '{{ threshold }}',
        count: ' {{ alerts_count }} ',
        fixed: '{{ threshold | fixed2 }}',
        text: 'v={{ value }}',
        missing: '{{ segment.none }}',
        flag: '{{ labels.flag }}',
        nested: [{ day: '{{ window.end | date }}' }, 7, false, null],
      },
      { ...ctx, labels: { flag: true } },
    );
    expect(out).toEqual({
      model: 'press-qa',
      threshold: 0.3,
      count: 3,
      fixed: '0.30',
      text: 'v=0.1234',
      missing: '',
      flag: true,
      nested: [{ day: '2026-01-02' }, 7, false, null],
    });
  });

  it('copies a string that does not compile unchanged', () => {
    expect(renderTemplateValue('{{ nope }}', ctx)).toBe('{{ nope }}');
  });
});
