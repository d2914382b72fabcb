import fs from 'node:fs';
import { fsPath, nameToText } from './file-names.ts';
import type { DiscoveredFile } from './types.ts';

const DOT = 0x2e;
const UNDERSCORE = 0x5f;

/** `*.wav` in any letter case, judged on the name's bytes. */
function isWavName(b: Buffer): boolean {
  const n = b.length;
  return n > 4 && b[n - 4] === DOT && (b[n - 3]! | 0x20) === 0x77 && (b[n - 2]! | 0x20) === 0x61 && (b[n - 1]! | 0x20) === 0x76;
}

/** macOS resource forks (`._x.wav`) copied along with a dataset. */
const isResourceFork = (b: Buffer): boolean => b[0] === DOT && b[1] === UNDERSCORE;

/**
 * Lists a directory, and then checks that the directory listed really is the one under the
 * root: one swapped for a symlink after it was found (a subset, or any folder) lists nothing.
 */
function list(dir: string | Buffer): fs.Dirent<Buffer>[] {
  try {
    const entries = fs.readdirSync(dir, { withFileTypes: true, encoding: 'buffer' });
    const real = fs.realpathSync.native(dir, { encoding: 'buffer' });
    const expected = typeof dir === 'string' ? Buffer.from(dir, 'utf8') : dir;
    return real.equals(expected) ? entries : [];
  } catch {
    return []; // unreadable or vanished: nothing to list
  }
}

type Kind = 'dir' | 'file' | 'link' | 'other';

function kindOf(dir: string | Buffer, e: fs.Dirent<Buffer>): Kind {
  if (e.isDirectory()) return 'dir';
  if (e.isFile()) return 'file';
  if (e.isSymbolicLink()) return 'link';
  if (!e.isFIFO() && !e.isSocket() && !e.isBlockDevice() && !e.isCharacterDevice()) {
    // DT_UNKNOWN on some filesystems: ask lstat, which never follows a link.
    try {
      const full = typeof dir === 'string' ? Buffer.concat([Buffer.from(`${dir}/`), e.name]) : Buffer.concat([dir, Buffer.from('/'), e.name]);
      const st = fs.lstatSync(full);
      return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'link' : 'other';
    } catch {
      return 'other';
    }
  }
  return 'other';
}

/**
 * Walks the WAV files under `root` (or under the named top-level `subsets`), depth first, the
 * files of a directory before its subdirectories so that a chapter's files arrive together.
 * Never follows a directory symlink — a subset folder included — so nothing outside the root
 * is listed and a symlink loop cannot hang the walk; a file symlink is listed, marked, for the
 * reader to check where it leads. Names are read as bytes and reported in the text form of
 * file-names.ts. Sync on purpose: it runs in a scan worker thread.
 */
export function* walkWavFiles(root: string, subsets: readonly string[] | null = null): Generator<DiscoveredFile> {
  const stack: string[] = [];
  if (subsets && subsets.length) {
    for (const s of [...new Set(subsets)].reverse()) {
      try {
        // lstat: a subset that is a symlink is not a folder of this tree.
        if (fs.lstatSync(fsPath(root, s)).isDirectory()) stack.push(s);
      } catch {
        // absent: nothing to scan there
      }
    }
  } else {
    stack.push('');
  }
  while (stack.length) {
    const rel = stack.pop()!;
    const dir = rel === '' ? root : fsPath(root, rel);
    const subdirs: string[] = [];
    for (const e of list(dir)) {
      const name = e.name;
      const kind = kindOf(dir, e);
      if (kind === 'dir') {
        subdirs.push(rel === '' ? nameToText(name) : `${rel}/${nameToText(name)}`);
      } else if ((kind === 'file' || kind === 'link') && isWavName(name) && !isResourceFork(name)) {
        const text = nameToText(name);
        yield { rel: rel === '' ? text : `${rel}/${text}`, link: kind === 'link' };
      }
    }
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
  }
}
