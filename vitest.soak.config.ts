import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// Bounded soak: fault rounds and storms that take minutes, one file at a time so their figures
// are not skewed by each other. CI runs it after `npm test`.
export default defineConfig({
  resolve: base.resolve,
  test: {
    include: ['test/soak/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
