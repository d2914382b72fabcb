// Worker bootstrap in plain JS. On Node 20 the TypeScript loader given to the main thread does not
// reach worker threads, so a worker whose source is TypeScript starts here: it registers tsx, then
// imports the module named in its argv (see workerUrl in worker-url.ts).
const { register } = await import('tsx/esm/api');
register();
await import(process.argv[2]);
