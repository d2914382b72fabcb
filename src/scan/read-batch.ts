import type { Analysis, RecordedFile } from '../domain/file-result.ts';
import { analyzeFile, analyzeHeaderWindow, analyzeOpened, HEADER_WINDOW, unlistedFolderRow, type AnalyzerState } from './analyze-file.ts';
import { fsPath, textToBytes } from './file-names.ts';
import { openAt, PinnedDir, RECORD_HEAD, type NativeIo } from './native-io.ts';
import { mtimeText } from './racy.ts';
import { folderFiles, folderNames, namesBuffer, splitFolder } from './folder-files.ts';
import type { DiscoveredFile, FolderFiles, ScanItem } from './types.ts';

/** A scan thread's reusable memory for batched header reads: records of RECORD_HEAD + HEADER_WINDOW bytes. */
export class HeaderRecords {
  readonly stride = RECORD_HEAD + HEADER_WINDOW;
  readonly bytes: Buffer;
  readonly view: DataView;
  constructor(readonly capacity = 256) {
    this.bytes = Buffer.alloc(capacity * this.stride);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }
}

export interface BatchReader {
  io: NativeIo | null;
  records: HeaderRecords;
  /** Runs before a file is read (fault injection in tests). */
  before?: ((file: DiscoveredFile) => void) | undefined;
}

const dirOf = (rel: string): string => rel.slice(0, rel.lastIndexOf('/') + 1);

/** Files of one directory read together: the files, their names' bytes (full analysis), and those names NUL-terminated in one buffer. */
interface Run {
  dir: string;
  files: DiscoveredFile[];
  names: Buffer[];
  packed: Buffer;
}

/**
 * Scans a batch of files. With the native addon, the files of each directory are opened
 * relative to that directory, held open and checked once (native-io.ts PinnedDir), and a
 * header scan reads all their headers in one call; without it, each file goes through
 * safe-open.ts. Both give the same rows: whatever the fast path does not settle itself (a
 * symlinked file, an open or read that fails, a header that reaches past the first window, a
 * directory that cannot be pinned) is scanned the portable way.
 */
export function readBatch(root: string, items: readonly ScanItem[], analysis: Analysis, state: AnalyzerState, reader: BatchReader): RecordedFile[] {
  const out: RecordedFile[] = [];
  /** The portable way, for a file `before` has already seen. */
  const portable = (f: DiscoveredFile) => void out.push(analyzeFile(root, f, analysis, state));
  const io = reader.io;
  const capacity = reader.records.capacity;
  const readRun = (run: Run) => {
    for (const f of run.files) reader.before?.(f);
    if (!io) return run.files.forEach(portable);
    const pinned = PinnedDir.open(run.dir === '' ? root : fsPath(root, run.dir));
    if (!(pinned instanceof PinnedDir)) {
      // Vanished, or no longer where the walk found it: the portable path words each file's error.
      run.files.forEach(portable);
      return;
    }
    try {
      if (analysis === 'header') readHeaders(io, pinned, root, run, state, reader.records, out, portable);
      else
        run.files.forEach((f, k) => {
          const opened = openAt(io, pinned, run.names[k]!);
          // Failures are rare; the portable path words them exactly as it always has.
          if ('fd' in opened) out.push(analyzeOpened(root, f, analysis, state, opened));
          else portable(f);
        });
    } finally {
      pinned.close();
    }
  };
  for (let i = 0; i < items.length;) {
    const item = items[i]!;
    if ('names' in item) {
      // A folder the walk packed: its names are the bytes listed, as they are, `capacity` at a time.
      for (let rest: FolderFiles | null = item; rest;) {
        const [part, more]: [FolderFiles, FolderFiles | null] = rest.count > capacity ? splitFolder(rest, capacity) : [rest, null];
        // Names one by one only where files are opened one by one (full analysis).
        const names = analysis === 'header' ? [] : folderNames(part);
        readRun({ dir: part.dir, files: folderFiles(part), names, packed: namesBuffer(part) });
        rest = more;
      }
      i++;
      continue;
    }
    if (item.unlisted) {
      out.push(unlistedFolderRow(item.rel, item.unlisted));
      i++;
      continue;
    }
    const firstName = io && !item.link ? nameBytes(item.rel) : null;
    if (!firstName) {
      reader.before?.(item);
      portable(item);
      i++;
      continue;
    }
    // A run of regular files in one directory (a walk finds a chapter's files together), with
    // their names as bytes.
    const dir = dirOf(item.rel);
    const names = [firstName];
    for (let j = i + 1; j < items.length && names.length < capacity; j++) {
      const f = items[j]!;
      const name = 'names' in f || f.link || f.unlisted || dirOf(f.rel) !== dir ? null : nameBytes(f.rel);
      if (!name) break;
      names.push(name);
    }
    const files = items.slice(i, i + names.length) as DiscoveredFile[];
    i += names.length;
    readRun({ dir: dir.slice(0, -1), files, names, packed: Buffer.concat(names.flatMap((n) => [n, NUL])) });
  }
  return out;
}

/** A file's name as bytes; null for text that names no file (the portable path then says so, as it always has). */
function nameBytes(rel: string): Buffer | null {
  return textToBytes(rel.slice(rel.lastIndexOf('/') + 1));
}

function readHeaders(
  io: NativeIo,
  dir: PinnedDir,
  root: string,
  run: Run,
  state: AnalyzerState,
  records: HeaderRecords,
  out: RecordedFile[],
  portable: (f: DiscoveredFile) => void,
): void {
  const { bytes, view, stride } = records;
  const done = io.readHeaders(dir.fd, run.packed, run.files.length, HEADER_WINDOW, bytes);
  for (let k = 0; k < run.files.length; k++) {
    const f = run.files[k]!;
    const at = k * stride;
    if (k >= done || view.getInt32(at, true) !== 0) {
      portable(f);
      continue;
    }
    const got = view.getInt32(at + 4, true);
    const size = view.getFloat64(at + 8, true);
    const mtime = f.link ? null : mtimeText(view.getFloat64(at + 16, true), view.getInt32(at + 24, true));
    // A plain Uint8Array, not a Buffer: the header reader's views of it are then plain ones too,
    // made without Buffer's constructor (four a file).
    const window = new Uint8Array(bytes.buffer, bytes.byteOffset + at + RECORD_HEAD, got);
    const row = analyzeHeaderWindow(root, f, window, size, mtime, state);
    if (row) out.push(row);
    else portable(f);
  }
}

const NUL = Buffer.alloc(1);
