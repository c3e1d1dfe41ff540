import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Golden and CLI tests spawn processes and read large fixtures; keep CI well inside its budget.
    testTimeout: 60_000,
    pool: 'forks',
    // One real Kafka broker for the run (tests: inject('kafkaBrokers')).
    globalSetup: ['test/kafka/global-setup.ts'],
  },
});
