// Worker bootstrap in plain JS. On Node 20 the TypeScript loader given to the main thread does not
// reach worker threads, so when the worker's source is TypeScript this registers tsx first.
const target = new URL('./worker.ts', import.meta.url);
const { register } = await import('tsx/esm/api');
register();
await import(target.href);
