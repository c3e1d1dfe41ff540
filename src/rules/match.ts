/**
 * Glob matching for rule matchers and silences: `*` matches any run of characters (including none), `?` exactly one
 * character; every other character matches itself (no regular expression is built, so a pattern can never inject
 * one). Matching is case-sensitive and works on Unicode code points.
 */

/**
 * Whether `text` matches the glob `pattern` as a whole (`*` any run, `?` one character, anything else literally).
 *
 * @example globMatch('press-*', 'press-qa') // true
 * @example globMatch('a?c', 'abc') // true
 * @example globMatch('a.c', 'abc') // false: `.` is literal
 */
export function globMatch(pattern: string, text: string): boolean {
  const p = Array.from(pattern);
  const t = Array.from(text);
  let pi = 0;
  let ti = 0;
  // Position of the last `*` seen and the text position it is currently assumed to cover up to (backtracking point).
  let star = -1;
  let mark = 0;
  while (ti < t.length) {
    const pc = p[pi];
    if (pc !== undefined && (pc === '?' || (pc !== '*' && pc === t[ti]))) {
      pi++;
      ti++;
    } else if (pc === '*') {
      star = pi;
      mark = ti;
      pi++;
    } else if (star !== -1) {
      // Let the last `*` swallow one more character and retry from just after it.
      pi = star + 1;
      mark++;
      ti = mark;
    } else {
      return false;
    }
  }
  while (p[pi] === '*') pi++;
  return pi === p.length;
}

/** Whether `text` matches at least one of `globs`; an empty list matches everything. */
export function matchesAnyGlob(globs: ReadonlyArray<string>, text: string): boolean {
  if (globs.length === 0) return true;
  return globs.some((g) => globMatch(g, text));
}
