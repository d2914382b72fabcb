import fg from 'fast-glob';
import type { Entry } from 'fast-glob';
import type { DiscoveredFile } from './types.ts';

export interface DiscoverOptions {
  /** Restrict to these top-level folders. */
  subsets?: string[] | undefined;
  signal?: AbortSignal | undefined;
}

function escapeGlob(s: string): string {
  return s.replace(/[\\*?[\]{}()!@+|]/g, '\\$&');
}

/**
 * Streams the WAV files under `root` (any letter case of `.wav`), relative and `/`-separated.
 * Directory symlinks are not followed, so discovery never leaves the root and a symlink loop
 * cannot hang it; file symlinks are returned marked, for the worker to check where they lead.
 * macOS `._*` resource-fork files are skipped.
 */
export async function* discoverWavFiles(root: string, opts: DiscoverOptions = {}): AsyncGenerator<DiscoveredFile> {
  const patterns = opts.subsets?.length ? opts.subsets.map((s) => `${escapeGlob(s)}/**/*.[wW][aA][vV]`) : ['**/*.[wW][aA][vV]'];
  const stream = fg.stream(patterns, {
    cwd: root,
    onlyFiles: false,
    objectMode: true,
    followSymbolicLinks: false,
    dot: true,
    ignore: ['**/._*'],
    suppressErrors: true,
    unique: true,
  });
  try {
    for await (const item of stream) {
      if (opts.signal?.aborted) return;
      const entry = item as unknown as Entry;
      const d = entry.dirent;
      if (d.isFile()) yield { rel: entry.path, link: false };
      else if (d.isSymbolicLink()) yield { rel: entry.path, link: true };
    }
  } finally {
    (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  }
}
