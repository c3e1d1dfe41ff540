/**
 * A configuration that cannot be used. Every problem found is in `issues`, so a user fixes the file in one go;
 * the message is one line per issue and carries no secret, so the CLI prints it as is, without a stack trace.
 */

export interface ConfigIssue {
  /**
   * Where the bad value came from: `driftwatch.yaml:12:5` (1-based line and column), `env DRIFTWATCH__WINDOWS__SIZE`,
   * `driftwatch.yaml` when no finer place is known, or `defaults` when there is no file and the problem is not tied
   * to an environment variable.
   */
  readonly location: string;
  /** The setting, as written in the file: `models.press-qa.window.size`, `rolling_references[0].schedule`; `` for the file itself. */
  readonly path: string;
  /** What is wrong: `expected a duration such as 30s, 5m or 2h, got "abc"`. */
  readonly message: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'invalid_config';
  readonly issues: ReadonlyArray<ConfigIssue>;
  /** Retrying never makes a bad config good; present so one retry helper can read it from every error type. */
  readonly retriable = false;

  constructor(issues: ReadonlyArray<ConfigIssue>) {
    super(issues.map(formatConfigIssue).join('\n'));
    this.issues = issues;
  }
}

export function isConfigError(e: unknown): e is ConfigError {
  return e instanceof ConfigError;
}

/** One line: `driftwatch.yaml:12:5: models.press-qa.window.size: expected a duration ...`. */
export function formatConfigIssue(issue: ConfigIssue): string {
  const parts = [issue.location];
  if (issue.path !== '') parts.push(issue.path);
  parts.push(issue.message);
  return parts.join(': ').replace(/[\r\n]+/g, ' ');
}
