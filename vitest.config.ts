import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // SWC keeps decorator metadata, which Nest's dependency injection reads.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    include: ['src/**/*.spec.ts', 'test/**/*.e2e-spec.ts'],
    pool: 'forks',
    // Specs wait mostly on sockets, databases and child processes: two files at once use a 2-core
    // machine better than one (Vitest's default there). Files share a worker's module cache instead of
    // importing Nest, TypeORM and the library again each; every spec builds its own apps, so none
    // depends on state another left behind.
    maxWorkers: 2,
    isolate: false,
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
