/**
 * The service configuration: `driftwatch.yaml` (see driftwatch.example.yaml at the repository root) with
 * environment overrides, validated at start-up with every problem reported at once.
 */
export { loadConfig, parseConfig, DEFAULT_CONFIG_FILE, type LoadOptions } from './load.js';
export { ConfigError, isConfigError, formatConfigIssue, type ConfigIssue } from './errors.js';
export { parseDuration, parseSize, formatDuration, formatSize } from './duration.js';
export { describeConfig } from './describe.js';
export { DEFAULT_EVALUATION, DEFAULT_WINDOW, defaultEvaluationWorkers } from './build.js';
export { isLoopback } from './checks.js';
export { NAMED_ENV, GENERIC_PREFIX } from './env.js';
export type * from './types.js';
