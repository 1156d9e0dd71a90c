import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the sources of sibling packages, so a change shows without a rebuild.
    alias: {
      '@opensag/proto': src('proto'),
      '@opensag/broker': src('broker'),
      '@opensag/agent': src('agent'),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    // Long-running fault and storm scenarios run apart, through `npm run test:soak`.
    exclude: ['**/node_modules/**', 'test/soak/**'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
