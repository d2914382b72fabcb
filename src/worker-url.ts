import type { WorkerOptions } from 'node:worker_threads';

/**
 * How to start a worker thread on a module next to the caller: the module itself when running
 * compiled JavaScript, or through worker-bootstrap.mjs (which registers tsx) when running the
 * TypeScript sources (tsx, vitest).
 */
export function workerModule(base: string, name: string): { url: URL; options: Pick<WorkerOptions, 'argv'> } {
  if (!base.endsWith('.ts')) return { url: new URL(`./${name}.js`, base), options: {} };
  return { url: new URL('./worker-bootstrap.mjs', import.meta.url), options: { argv: [new URL(`./${name}.ts`, base).href] } };
}
