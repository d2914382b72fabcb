import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { WorkerOptions } from 'node:worker_threads';

export interface WorkerModule {
  /** What to start a Worker on; made on first use. */
  readonly url: URL;
  readonly options: Pick<WorkerOptions, 'argv'>;
}

/**
 * How to start a worker thread on the module `name` next to the caller (`base`): the module
 * itself when running compiled JavaScript. When running the TypeScript sources (tsx, vitest) the
 * module and what it imports are bundled into one JavaScript file next to it, once per process
 * (esbuild, ~50 ms). A worker that ran the sources through tsx instead cost 34 MB of memory
 * against 9.5 MB (tsx's loader hooks run in a thread of their own per worker, and transpile the
 * whole module graph again), and took longer to start. The bundle sits in the source's folder,
 * so that `import.meta.url` in it still finds the files next to the sources (the kernel's .wasm).
 * Where that folder cannot be written, the thread runs the sources through tsx
 * (worker-bootstrap.mjs).
 */
export function workerModule(base: string, name: string): WorkerModule {
  if (!base.endsWith('.ts')) return { url: new URL(`./${name}.js`, base), options: {} };
  const source = new URL(`./${name}.ts`, base);
  let made: WorkerModule | null = null;
  const make = (): WorkerModule => {
    if (made) return made;
    const bundled = bundle(fileURLToPath(source));
    // A source folder that cannot be written (a read-only image): tsx in the thread, as before.
    made = bundled ? { url: bundled, options: {} } : { url: new URL('./worker-bootstrap.mjs', import.meta.url), options: { argv: [source.href] } };
    return made;
  };
  return {
    get url() {
      return make().url;
    },
    get options() {
      return make().options;
    },
  };
}

/** A bundle older than this is removed when a new one of the same module is written. */
const STALE_MS = 24 * 3600_000;

/** The bundle of `entry`, written next to it; null when it cannot be written there. */
function bundle(entry: string): URL | null {
  // Loaded only here: compiled deployments never need it.
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  const out = esbuild.buildSync({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'node', target: 'node20', packages: 'external', write: false, logLevel: 'silent' });
  const code = out.outputFiles[0]!.contents;
  const dir = path.dirname(entry);
  const stem = `.${path.basename(entry, '.ts')}.bundle-`;
  const file = path.join(dir, `${stem}${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
  if (fs.existsSync(file)) return pathToFileURL(file);
  // Written whole, then renamed: processes starting at once (test files) never see half a file.
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    fs.writeFileSync(tmp, code);
    fs.renameSync(tmp, file);
  } catch {
    fs.rmSync(tmp, { force: true });
    return null;
  }
  for (const f of fs.readdirSync(dir)) {
    if (!f.startsWith(stem) || path.join(dir, f) === file) continue;
    try {
      if (Date.now() - fs.statSync(path.join(dir, f)).mtimeMs > STALE_MS) fs.rmSync(path.join(dir, f), { force: true });
    } catch {
      // another process removed it
    }
  }
  return pathToFileURL(file);
}
