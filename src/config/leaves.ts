/**
 * The leaf checks the configuration and the rule files are built from: each words its own message (what it
 * expected, what it got), so every problem reads the same way wherever it is found.
 */
import { z } from 'zod';
import { didYouMean, expected, orList } from './messages.js';

/** A value that failed a leaf check, with the message to show. */
export class Reject {
  constructor(readonly message: string) {}
}

/**
 * A leaf value: `parse` returns the value, or undefined (the default message) or a Reject (its own message).
 * `missing: true` lets a missing key reach `parse` (as undefined), so a required key gets this leaf's own message.
 */
export function leaf<T>(what: string, parse: (v: unknown) => T | Reject | undefined, options: { readonly missing?: boolean } = {}) {
  const input = options.missing ? z.unknown().optional() : z.unknown();
  return input.transform((v, ctx): T => {
    const r = parse(v);
    if (r === undefined || r instanceof Reject) {
      ctx.addIssue({ code: 'custom', message: r instanceof Reject ? r.message : expected(what, v), input: v });
      return z.NEVER;
    }
    return r;
  });
}

/** A non-empty string. */
export const text = (what = 'a non-empty string', options: { readonly missing?: boolean } = {}) =>
  leaf(what, (v) => (typeof v === 'string' && v.trim() !== '' ? v : undefined), options);

export const bool = (options: { readonly missing?: boolean } = {}) => leaf('true or false', (v) => (typeof v === 'boolean' ? v : undefined), options);

/** A whole number in [min, max] (no upper bound when `max` is omitted). */
export function integer(min: number, max?: number, options: { readonly missing?: boolean } = {}) {
  const what = max === undefined ? `a whole number >= ${min}` : `a whole number from ${min} to ${max}`;
  return leaf(what, (v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= min && (max === undefined || v <= max) ? v : undefined), options);
}

/** One of `values`, with a did-you-mean; `quote` writes the choices as JSON strings in the message. */
export function oneOf<const T extends string>(values: ReadonlyArray<T>, options: { readonly quote?: boolean; readonly missing?: boolean } = {}) {
  const what = orList(options.quote ? values.map((v) => JSON.stringify(v)) : values);
  return leaf(
    what,
    (v) => {
      if (typeof v === 'string' && (values as ReadonlyArray<string>).includes(v)) return v as T;
      return new Reject(expected(what, v) + (typeof v === 'string' ? didYouMean(v, values) : ''));
    },
    options,
  );
}
