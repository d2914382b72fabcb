import { nameToText } from './file-names.ts';
import type { DiscoveredFile, FolderFiles, ScanItem } from './types.ts';

/** How many files an item stands for. */
export const filesIn = (item: ScanItem): number => ('names' in item ? item.count : 1);

/** A packed folder's names, NUL-terminated, as a Buffer (a clone arrives as a plain Uint8Array). */
export const namesBuffer = (folder: FolderFiles): Buffer => Buffer.from(folder.names.buffer, folder.names.byteOffset, folder.names.byteLength);

/** Calls `visit` with where each of a packed folder's names starts and ends (its NUL), in order. */
function eachName(folder: FolderFiles, bytes: Buffer, visit: (at: number, end: number, k: number) => void): void {
  for (let at = 0, k = 0; k < folder.count; k++) {
    const end = bytes.indexOf(0, at);
    if (end < 0) break;
    visit(at, end, k);
    at = end + 1;
  }
}

/** A packed folder's names as views of its bytes (each without its NUL), in order. */
export function folderNames(folder: FolderFiles): Buffer[] {
  const bytes = namesBuffer(folder);
  const out: Buffer[] = [];
  eachName(folder, bytes, (at, end) => out.push(bytes.subarray(at, end)));
  return out;
}

/**
 * The text form of the name at `bytes[at, end)`: nameToText's, decoded in place when it is plain
 * UTF-8 without a backslash (nearly always), without first making a view of it.
 */
function nameAt(bytes: Buffer, at: number, end: number): string {
  const s = bytes.toString('utf8', at, end);
  return s.includes('\\') || s.includes('\uFFFD') ? nameToText(bytes.subarray(at, end)) : s;
}

/** A packed folder's files one by one, as a walk that packs nothing would have found them. */
export function folderFiles(folder: FolderFiles): DiscoveredFile[] {
  const bytes = namesBuffer(folder);
  const prefix = folder.dir === '' ? '' : `${folder.dir}/`;
  const out: DiscoveredFile[] = [];
  eachName(folder, bytes, (at, end, k) => out.push({ rel: prefix + nameAt(bytes, at, end), link: folder.links?.[k] === 1 }));
  return out;
}

/** A packed folder's first `n` files (0 < n < count) and the rest, as two views of its bytes. */
export function splitFolder(folder: FolderFiles, n: number): [FolderFiles, FolderFiles] {
  let at = 0;
  for (let k = 0; k < n; k++) at = folder.names.indexOf(0, at) + 1;
  return [
    { dir: folder.dir, names: folder.names.subarray(0, at), count: n, links: folder.links?.subarray(0, n) ?? null },
    { dir: folder.dir, names: folder.names.subarray(at), count: folder.count - n, links: folder.links?.subarray(n) ?? null },
  ];
}

/** Items one file each. */
export function eachFile(items: readonly ScanItem[]): DiscoveredFile[] {
  return items.flatMap((it) => ('names' in it ? folderFiles(it) : [it]));
}

/**
 * Packs the WAV files found in folders into FolderFiles of at most `max` files, all of one
 * message's names in one buffer (a view of a buffer is cloned with the whole of it).
 */
export class FolderPacker {
  private dirs: { dir: string; names: Buffer[]; links: number[] | null }[] = [];
  private files = 0;

  constructor(private readonly max: number) {}

  /** Files added since the last take(). */
  get size(): number {
    return this.files;
  }

  add(dir: string, name: Buffer, link: boolean): void {
    let last = this.dirs[this.dirs.length - 1];
    if (!last || last.dir !== dir || last.names.length >= this.max) this.dirs.push((last = { dir, names: [], links: null }));
    if (link) (last.links ??= last.names.map(() => 0)).push(1);
    else last.links?.push(0);
    last.names.push(name);
    this.files++;
  }

  /** The folders added since the last take(), packed. */
  take(): FolderFiles[] {
    let total = 0;
    for (const d of this.dirs) for (const n of d.names) total += n.length + 1;
    const bytes = Buffer.allocUnsafeSlow(total);
    let at = 0;
    const out = this.dirs.map((d): FolderFiles => {
      const start = at;
      for (const n of d.names) {
        n.copy(bytes, at);
        bytes[(at += n.length)] = 0;
        at++;
      }
      return { dir: d.dir, names: bytes.subarray(start, at), count: d.names.length, links: d.links ? Uint8Array.from(d.links) : null };
    });
    this.dirs = [];
    this.files = 0;
    return out;
  }
}
