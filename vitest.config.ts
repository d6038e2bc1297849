import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['test/globalSetup.ts'],
    include: ['**/*.spec.ts'],
    exclude: ['node_modules/**', '.cra/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Without DATABASE_URL the tests share one embedded PGlite, which serves one statement stream at a time.
    fileParallelism: Boolean(process.env.DATABASE_URL),
  },
});
