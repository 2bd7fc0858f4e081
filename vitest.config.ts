import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Recovery tests run the whole learner on 1e4–1e5 samples; give them room on a 2-core CI box.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
