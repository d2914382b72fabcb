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
  // Distinct subsets make distinct patterns, so fast-glob's `unique` (a set of every path) and an
  // `ignore` glob (matched against every entry) are not needed: together they doubled its cost.
  const subsets = [...new Set(opts.subsets ?? [])];
  const patterns = subsets.length ? subsets.map((s) => `${escapeGlob(s)}/**/*.[wW][aA][vV]`) : ['**/*.[wW][aA][vV]'];
  const stream = fg.stream(patterns, {
    cwd: root,
    onlyFiles: false,
    objectMode: true,
    followSymbolicLinks: false,
    dot: true,
    suppressErrors: true,
    unique: false,
  });
  try {
    for await (const item of stream) {
      if (opts.signal?.aborted) return;
      const entry = item as unknown as Entry;
      if (entry.name.startsWith('._')) continue; // macOS resource forks
      const d = entry.dirent;
      if (d.isFile()) yield { rel: entry.path, link: false };
      else if (d.isSymbolicLink()) yield { rel: entry.path, link: true };
    }
  } finally {
    (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  }
}
