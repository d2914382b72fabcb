import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests spawn worker threads and child servers: two files at a time fit a 2-core machine.
    maxWorkers: 2,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    // Throwaway Redis and PostgreSQL servers for the cluster tests (test/setup/cluster-servers.ts).
    globalSetup: ['./test/setup/cluster-servers.ts'],
    // The temp dirs a test file made are removed after it (test/helpers/libritts-tree.ts tempDir).
    setupFiles: ['./test/setup/temp-dirs.ts'],
    // Every server the tests start, in process or as a child, checks each of its responses
    // against its OpenAPI document and answers 500 on a breach (src/http/contract-check.ts).
    env: { CONTRACT_CHECK: '1' },
  },
});
