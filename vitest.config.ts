import { defineConfig } from 'vitest/config';
import { ConfigError } from './platform/config.ts';
import { containerEngineAnswers } from './test/containers/engine.ts';
import { planTestServers } from './test/serverPlan.ts';

export default defineConfig(async () => {
  const plan = await planTestServers(process.env, containerEngineAnswers).catch((error: unknown) => {
    if (!(error instanceof ConfigError)) throw error;
    // A test-server variable the run cannot go on with: its one line, as the services say theirs.
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  });
  return {
    test: {
      globalSetup: ['test/globalSetup.ts'],
      include: ['**/*.spec.ts'],
      exclude: ['node_modules/**', '.cra/**'],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      pool: 'forks',
      // Embedded PGlite (the local way for Postgres) serves one statement stream at a time: the files take turns there.
      fileParallelism: plan.postgres !== 'processes',
    },
  };
});
