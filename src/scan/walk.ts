import fs from 'node:fs';
import type { FileError, FileFingerprint } from '../domain/file-result.ts';
import { fsPath, nameToText, textToBytes } from './file-names.ts';
import { errnoName, nativeIo, PinnedDir, probeAt, type NativeIo, type Probed } from './native-io.ts';
import { codeOf } from './safe-open.ts';
import { parseLibriTTSPath, readChapterTable, sidecarNames, tableDecides, type ChapterTable } from './libritts.ts';
import type { WalkScope } from '../domain/scan-part.ts';
import { FolderPacker } from './folder-files.ts';
import type { DiscoveredFile, ScanItem } from './types.ts';

export type { WalkScope } from '../domain/scan-part.ts';

const DOT = 0x2e;
const UNDERSCORE = 0x5f;

/** `*.wav` in any letter case, judged on the name's bytes. */
function isWavName(b: Buffer): boolean {
  const n = b.length;
  return n > 4 && b[n - 4] === DOT && (b[n - 3]! | 0x20) === 0x77 && (b[n - 2]! | 0x20) === 0x61 && (b[n - 1]! | 0x20) === 0x76;
}

/** macOS resource forks (`._x.wav`) copied along with a dataset. */
const isResourceFork = (b: Buffer): boolean => b[0] === DOT && b[1] === UNDERSCORE;

type Kind = 'dir' | 'file' | 'link' | 'other';

/** A directory entry: its name's bytes, and what it is (never following a symlink). */
interface Entry {
  name: Buffer;
  kind: Kind;
}

const FOLDER_OUTSIDE: FileError = { code: 'OUTSIDE_ROOT', detail: 'folder lies outside the scanned directory; not listed' };

/**
 * Why a folder cannot be listed, as its failed row words it, from the error code of the attempt
 * (`EACCES`, `ENAMETOOLONG`, `EIO`…); null for a folder that is gone (deleted while the walk
 * ran), which holds nothing to scan.
 */
function unlistable(code: string): FileError | null {
  return code === 'ENOENT' || code === 'ENOTDIR' ? null : { code: 'READ_ERROR', detail: `cannot list folder (${code})` };
}

/** unlistable() for a FileError of PinnedDir.open. */
const unlistableAs = (e: FileError): FileError | null => (e.code === 'OUTSIDE_ROOT' ? FOLDER_OUTSIDE : unlistable(codeOf(e) ?? 'EIO'));

/**
 * Lists a directory that must be exactly where its path says (the root is a real path): one
 * swapped for a symlink after it was found (a subset, or any folder) is not listed. With the
 * native addon the directory is opened without following a symlink, checked by the kernel's path
 * of that descriptor, and listed through it, so the names listed are those of the directory
 * checked; the portable way lists, then checks the path again. A folder that cannot be listed
 * (permissions, a path too long, an I/O error, moved) gives the reason, for a failed row: its
 * files would otherwise be missing from the results with nothing said.
 */
function list(dir: string | Buffer, all = true, io: NativeIo | null = nativeIo): Entry[] | FileError {
  if (io) {
    const pinned = PinnedDir.open(dir);
    if (!(pinned instanceof PinnedDir)) return unlistableAs(pinned) ?? [];
    try {
      return listPinned(io, pinned, all);
    } finally {
      pinned.close();
    }
  }
  let entries: fs.Dirent<Buffer>[];
  let real: Buffer;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true, encoding: 'buffer' });
    real = fs.realpathSync.native(dir, { encoding: 'buffer' });
  } catch (err) {
    return unlistable((err as NodeJS.ErrnoException).code ?? 'EIO') ?? [];
  }
  const expected = typeof dir === 'string' ? Buffer.from(dir, 'utf8') : dir;
  return real.equals(expected) ? entries.map((e) => ({ name: e.name, kind: kindOf(dir, e) })) : FOLDER_OUTSIDE;
}

/**
 * The listing buffer, made on first use. A directory that does not fit (listDir answers -ERANGE)
 * gets a larger one for its own listing, not kept for the thread's life.
 */
const LISTING_BYTES = 1 << 20;
let listing: Buffer | null = null;
const ERANGE = 34;
const KINDS: (Kind | null)[] = [null, 'dir', 'file', 'link', 'other'];

/** Whether the `len` bytes at `at` end in `.wav` (any letter case): isWavName without a Buffer. */
function wavAt(b: Buffer, at: number, len: number): boolean {
  const e = at + len;
  return len > 4 && b[e - 4] === DOT && (b[e - 3]! | 0x20) === 0x77 && (b[e - 2]! | 0x20) === 0x61 && (b[e - 1]! | 0x20) === 0x76;
}

/** The entries of a pinned directory; without `all`, only folders and `*.wav` names (a walk that fingerprints nothing needs no more). */
function listPinned(io: NativeIo, dir: PinnedDir, all: boolean): Entry[] | FileError {
  let buf = (listing ??= Buffer.alloc(LISTING_BYTES));
  let used = io.listDir(dir.fd, buf);
  while (used === -ERANGE && buf.length < 1 << 30) used = io.listDir(dir.fd, (buf = Buffer.alloc(buf.length * 4)));
  if (used === -ERANGE) return { code: 'READ_ERROR', detail: 'cannot list folder (its listing passes 1 GiB)' };
  if (used < 0) return unlistable(errnoName(-used)) ?? [];
  // One copy per directory: the names stay valid while the walk works through them.
  const bytes = Buffer.from(buf.subarray(0, used));
  const out: Entry[] = [];
  for (let at = 0; at < used;) {
    const len = bytes[at + 1]! | (bytes[at + 2]! << 8);
    const type = bytes[at]!;
    // Two of a LibriTTS folder's three entries are transcripts: skipped without making a name.
    if (!all && type !== 1 && type !== 0 && !wavAt(bytes, at + 3, len)) {
      at += 3 + len;
      continue;
    }
    const name = bytes.subarray(at + 3, at + 3 + len);
    // DT_UNKNOWN on some filesystems: ask lstat, which never follows a link.
    out.push({ name, kind: KINDS[type] ?? lstatKind(Buffer.concat([dir.path, SLASH, name])) });
    at += 3 + len;
  }
  return out;
}

const SLASH = Buffer.from('/');

function lstatKind(full: Buffer): Kind {
  try {
    const st = fs.lstatSync(full);
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'link' : 'other';
  } catch {
    return 'other';
  }
}

function kindOf(dir: string | Buffer, e: fs.Dirent<Buffer>): Kind {
  if (e.isDirectory()) return 'dir';
  if (e.isFile()) return 'file';
  if (e.isSymbolicLink()) return 'link';
  if (!e.isFIFO() && !e.isSocket() && !e.isBlockDevice() && !e.isCharacterDevice()) {
    // DT_UNKNOWN on some filesystems: ask lstat, which never follows a link.
    return lstatKind(typeof dir === 'string' ? Buffer.concat([Buffer.from(`${dir}/`), e.name]) : Buffer.concat([dir, SLASH, e.name]));
  }
  return 'other';
}

/**
 * Whether a walk of `scope` reports a row's path (a file's, or `<rel>/` and `./` for a folder it
 * could not list): the rows of a resumed part that its walk should have found again.
 */
export function pathInScope(p: string, scope: WalkScope): boolean {
  const folderRow = p.endsWith('/');
  const rel = p === './' ? '' : folderRow ? p.slice(0, -1) : p;
  const slash = rel.lastIndexOf('/');
  // A file is found in its folder; a folder's row, where the walk tried to list that folder.
  const where = folderRow ? rel : slash < 0 ? '' : rel.slice(0, slash);
  const inDirs = scope.dirs.some((d) => (scope.recursive ? d === '' || where === d || where.startsWith(`${d}/`) : where === d));
  if (!inDirs || !scope.shard) return inDirs;
  const name = textToBytes(rel.slice(slash + 1)) ?? Buffer.alloc(0);
  return nameHash(name) % scope.shard.count === scope.shard.index;
}

/** FNV-1a over a name's bytes: stable across processes and machines, which is all a shard needs. */
export function nameHash(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

/** A portable probe, by lstat of the full path (never follows a link): as native-io.ts probeAt. */
function lstatProbe(full: string | Buffer): Probed {
  try {
    const st = fs.lstatSync(full, { bigint: true });
    return st.isFile() ? { size: Number(st.size), mtime_ns: String(st.mtimeNs) } : 'other';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'absent' : 'other';
  }
}

/**
 * Fingerprints of one folder's files for a rescan: a WAV's size and mtime, and those of the
 * transcript files a scan of it may consult (libritts.ts sidecarNames), from stats alone. What a
 * transcript file is comes from the folder's listing (a walk), or, given no listing (a reading
 * thread handed the files), from a stat of that name; both judge alike (test/scan/walk.test.ts).
 */
class FolderPrints {
  /** The listing's kinds by name; null: each name is probed. */
  private readonly kinds: Map<string, Kind> | null;
  private readonly probed = new Map<string, Probed>();
  private readonly sigs = new Map<string, string>();

  /** The folder's chapter tables, read when a file first needs one. */
  private readonly tables = new Map<string, ChapterTable>();

  /** The folder held open for the native stats, on first use; a FileError when it moved (then nothing is fingerprinted). */
  private pinned: PinnedDir | FileError | null = null;

  constructor(
    private readonly dir: string | Buffer,
    entries: Entry[] | null,
    /** The scan's root and this folder's path under it (text form), for reading chapter tables. */
    private readonly root: string,
    private readonly rel: string,
    private readonly io: NativeIo | null,
  ) {
    this.kinds = entries ? new Map(entries.map((e) => [nameToText(e.name), e.kind])) : null;
    this.prefix = Buffer.concat([typeof dir === 'string' ? Buffer.from(dir, 'utf8') : dir, Buffer.from('/')]);
  }

  private readonly prefix: Buffer;

  /**
   * What the name `name` in this folder is, by one stat that never follows a link. Natively,
   * relative to the folder held open (the same folder that was listed, whatever its path leads
   * to by now); else by lstat of the full path.
   */
  private probe(name: string | Buffer): Probed {
    const bytes = typeof name === 'string' ? Buffer.from(name, 'utf8') : name;
    if (!this.io) return lstatProbe(Buffer.concat([this.prefix, bytes]));
    const pinned = (this.pinned ??= PinnedDir.open(this.dir));
    return pinned instanceof PinnedDir ? probeAt(this.io, pinned, bytes) : 'other';
  }

  /** A transcript file's kind: from the listing, or from a stat of it (kept for its signature). */
  private kind(name: string): Kind | undefined {
    if (this.kinds) return this.kinds.get(name);
    let p = this.probed.get(name);
    if (p === undefined) this.probed.set(name, (p = this.probe(name)));
    return p === 'absent' ? undefined : p === 'other' ? 'other' : 'file';
  }

  private stat(name: string | Buffer): { size: number; mtime_ns: string } | null {
    const p = (typeof name === 'string' && this.probed.get(name)) || this.probe(name);
    return typeof p === 'object' ? p : null;
  }

  close(): void {
    if (this.pinned instanceof PinnedDir) this.pinned.close();
    this.pinned = null;
  }

  private sidecar(name: string): string {
    let sig = this.sigs.get(name);
    if (sig === undefined) {
      const kind = this.kind(name);
      // A name that does not round-trip (bytes that are not UTF-8) is not judged: 'x' never matches.
      const st = kind === 'file' && !name.includes('\\') ? this.stat(name) : null;
      sig = kind === undefined ? '-' : st ? `${st.size}:${st.mtime_ns}` : 'x';
      this.sigs.set(name, sig);
    }
    return sig;
  }

  /** The chapter table `name` of this folder, when it is a regular file (else null). */
  private table(name: string): ChapterTable | null {
    if (this.kind(name) !== 'file' || name.includes('\\')) return null;
    let t = this.tables.get(name);
    if (!t) this.tables.set(name, (t = readChapterTable(this.root, this.rel === '' ? name : `${this.rel}/${name}`)));
    return t;
  }

  of(name: Buffer, rel: string): FileFingerprint | undefined {
    const text = nameToText(name);
    if (text.includes('\\')) return undefined;
    const st = this.stat(name);
    if (!st) return undefined;
    const ids = parseLibriTTSPath(rel);
    const names = sidecarNames(text, ids);
    const sidecars: Record<string, string> = {};
    if (names.table) {
      // A row lists the transcript files it consulted (libritts.ts TranscriptReader.read): the
      // chapter table alone when that table gives the utterance. Then only the table is looked
      // at here — read once per folder, by the reader's own rules — instead of an lstat of two
      // text files per WAV: the walk of a LibriTTS rescan took 116 ms for 5,469 files, 63 ms so.
      // The table's fingerprint is the one its read gave, as the reader records it.
      const table = this.table(names.table);
      sidecars[names.table] = table ? (table.sig ?? 'x') : this.sidecar(names.table);
      if (table && tableDecides(table, ids.utterance_id)) return { ...st, sidecars };
    }
    sidecars[names.normalized] = this.sidecar(names.normalized);
    sidecars[names.original] = this.sidecar(names.original);
    return { ...st, sidecars };
  }
}

/**
 * Fingerprints files handed over without (a rescan's reading thread: the walk sends plain
 * folders, and the `stat`s, ~4 µs a file, are spread over the reading threads instead of all
 * made by the one walking thread), as a walk with fingerprints would: each folder's transcript
 * files are stat-ed by name instead of listed. Symlinked files and names that are not text get
 * none, as in the walk. Consecutive files of one folder share its look-ups.
 */
export function fingerprintFiles(root: string, files: readonly DiscoveredFile[], io: NativeIo | null = nativeIo): void {
  const folderOf = (rel: string) => rel.slice(0, Math.max(0, rel.lastIndexOf('/')));
  for (let i = 0; i < files.length;) {
    const dirRel = folderOf(files[i]!.rel);
    let end = i + 1;
    while (end < files.length && folderOf(files[end]!.rel) === dirRel) end++;
    const prints = new FolderPrints(dirRel === '' ? root : fsPath(root, dirRel), null, root, dirRel, io);
    try {
      for (let k = i; k < end; k++) {
        const f = files[k]!;
        if (f.link || f.fp || f.unlisted) continue;
        const name = textToBytes(f.rel.slice(f.rel.lastIndexOf('/') + 1));
        if (name) f.fp = prints.of(name, f.rel);
      }
    } finally {
      prints.close();
    }
    i = end;
  }
}

/** A folder of a walk: its path under the root (text form), its path on disk, its entries in byte order; or why it could not be listed. */
interface Folder {
  rel: string;
  dir: string | Buffer;
  entries: Entry[];
  error: FileError | null;
}

/** The result path of a folder that could not be listed: its path and a `/` (`./` for the root), which no file's path can be. */
const folderRowPath = (rel: string): string => (rel === '' ? './' : `${rel}/`);

/**
 * The failed row's item for a folder that could not be listed, when the scope's shard has it
 * (by the folder's name, as files go by theirs: a sharded scope lists the same folders in every
 * shard, and the folder must be reported once).
 */
function unlistedItem(folder: Folder, shard: WalkScope['shard']): DiscoveredFile | null {
  if (!folder.error) return null;
  if (shard) {
    const name = textToBytes(folder.rel.slice(folder.rel.lastIndexOf('/') + 1)) ?? Buffer.alloc(0);
    if (nameHash(name) % shard.count !== shard.index) return null;
  }
  return { rel: folderRowPath(folder.rel), link: false, unlisted: folder.error };
}

/**
 * The folders of a scope under `root`, depth first, each before its subdirectories. Never
 * follows a directory symlink — a starting folder (a subset) included — so nothing outside the
 * root is listed and a symlink loop cannot hang the walk. Without `all`, a folder's entries are
 * its subfolders and `*.wav` names only.
 */
function* folders(root: string, scope: WalkScope, all: boolean, io: NativeIo | null | undefined): Generator<Folder> {
  const stack: string[] = [];
  for (const d of [...new Set(scope.dirs)].reverse()) {
    if (d === '') {
      stack.push(d);
      continue;
    }
    try {
      // lstat: a starting folder that is a symlink is not a folder of this tree.
      if (fs.lstatSync(fsPath(root, d)).isDirectory()) stack.push(d);
    } catch {
      // absent: nothing to scan there
    }
  }
  while (stack.length) {
    const rel = stack.pop()!;
    const dir = rel === '' ? root : fsPath(root, rel);
    // In byte order: results come out in the same order every time, and a folder's rows reach
    // the (task, path) index mostly in ascending order (SQLite's BINARY collation).
    const listed = list(dir, all, io);
    if (!Array.isArray(listed)) {
      yield { rel, dir, entries: [], error: listed };
      continue;
    }
    const entries = listed.sort((a, b) => Buffer.compare(a.name, b.name));
    yield { rel, dir, entries, error: null };
    if (!scope.recursive) continue;
    for (let i = entries.length - 1; i >= 0; i--) {
      const { name, kind } = entries[i]!;
      if (kind === 'dir') stack.push(rel === '' ? nameToText(name) : `${rel}/${nameToText(name)}`);
    }
  }
}

/** Whether a walk reports an entry: a `*.wav` name that is no resource fork, a regular file or a symlink, in the scope's shard. */
function isWavEntry({ name, kind }: Entry, shard: WalkScope['shard']): boolean {
  if ((kind !== 'file' && kind !== 'link') || !isWavName(name) || isResourceFork(name)) return false;
  return !shard || nameHash(name) % shard.count === shard.index;
}

/**
 * Walks the WAV files in a scope under `root` (see folders), the files of a directory before
 * its subdirectories so that a chapter's files arrive together; a file symlink is listed,
 * marked, for the reader to check where it leads. Names are read as bytes and reported in the
 * text form of file-names.ts. Sync on purpose: it runs in a scan worker thread.
 */
export function* walkWavFiles(
  root: string,
  scope: WalkScope = { dirs: [''], recursive: true },
  /** `io: null`: list the portable way (the tests' oracle), even where the native reader is built. */
  opts: { fingerprints?: boolean; io?: NativeIo | null } = {},
): Generator<DiscoveredFile> {
  const io = opts.io === undefined ? nativeIo : opts.io;
  for (const folder of folders(root, scope, !!opts.fingerprints, io)) {
    const { rel, dir, entries } = folder;
    const unlisted = unlistedItem(folder, scope.shard);
    if (unlisted) yield unlisted;
    const prints = opts.fingerprints ? new FolderPrints(dir, entries, root, rel, io) : null;
    try {
      for (const e of entries) {
        if (!isWavEntry(e, scope.shard)) continue;
        const text = nameToText(e.name);
        const fileRel = rel === '' ? text : `${rel}/${text}`;
        const fp = prints && e.kind === 'file' ? prints.of(e.name, fileRel) : undefined;
        yield fp ? { rel: fileRel, link: false, fp } : { rel: fileRel, link: e.kind === 'link' };
      }
    } finally {
      prints?.close();
    }
  }
}

/**
 * The same walk as walkWavFiles without fingerprints, as a scan's walking thread hands it on:
 * messages of about `message` files, each folder's WAV names packed as bytes (folder-files.ts),
 * at most `max` a folder item, never made into text (the reading thread does that once, for its
 * rows).
 */
export function* walkPacked(
  root: string,
  scope: WalkScope = { dirs: [''], recursive: true },
  opts: { max?: number; message?: number; io?: NativeIo | null } = {},
): Generator<ScanItem[]> {
  const packer = new FolderPacker(opts.max ?? 256);
  const message = opts.message ?? opts.max ?? 256;
  for (const folder of folders(root, scope, false, opts.io)) {
    const { rel, entries } = folder;
    const unlisted = unlistedItem(folder, scope.shard);
    if (unlisted) yield packer.size ? [...packer.take(), unlisted] : [unlisted];
    for (const e of entries) {
      if (!isWavEntry(e, scope.shard)) continue;
      packer.add(rel, e.name, e.kind === 'link');
      if (packer.size >= message) yield packer.take();
    }
  }
  if (packer.size) yield packer.take();
}

/**
 * Lists the folders `depth` levels below the starting `dirs` (relative paths), never through a
 * symlink: what a scan is split into parts by (plan.ts).
 */
export function listFolders(root: string, dirs: readonly string[], depth: number): string[] {
  let level = [...new Set(dirs)].filter((d) => {
    if (d === '') return true;
    try {
      return fs.lstatSync(fsPath(root, d)).isDirectory();
    } catch {
      return false;
    }
  });
  for (let i = 0; i < depth; i++) {
    const next: string[] = [];
    for (const rel of level) {
      const dir = rel === '' ? root : fsPath(root, rel);
      const listed = list(dir, false);
      // A folder that cannot be listed has no folders to give; the plan's loose parts list every
      // folder above the parts' level, and the one whose shard it falls in reports it (plan.ts).
      if (!Array.isArray(listed)) continue;
      for (const e of listed) if (e.kind === 'dir') next.push(rel === '' ? nameToText(e.name) : `${rel}/${nameToText(e.name)}`);
    }
    level = next.sort();
  }
  return level;
}
