import type { Analysis, RecordedFile } from '../domain/file-result.ts';
import { analyzeFile, analyzeHeaderWindow, analyzeOpened, HEADER_WINDOW, type AnalyzerState } from './analyze-file.ts';
import { fsPath, textToBytes } from './file-names.ts';
import { openAt, PinnedDir, RECORD_HEAD, type NativeIo } from './native-io.ts';
import type { DiscoveredFile } from './types.ts';

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

/**
 * Scans a batch of files. With the native addon, the files of each directory are opened
 * relative to that directory, held open and checked once (native-io.ts PinnedDir), and a
 * header scan reads all their headers in one call; without it, each file goes through
 * safe-open.ts. Both give the same rows: whatever the fast path does not settle itself (a
 * symlinked file, an open or read that fails, a header that reaches past the first window, a
 * directory that cannot be pinned) is scanned the portable way.
 */
export function readBatch(root: string, files: DiscoveredFile[], analysis: Analysis, state: AnalyzerState, reader: BatchReader): RecordedFile[] {
  const out: RecordedFile[] = [];
  /** The portable way, for a file `before` has already seen. */
  const portable = (f: DiscoveredFile) => void out.push(analyzeFile(root, f, analysis, state));
  const each = (run: DiscoveredFile[]) => {
    for (const f of run) reader.before?.(f);
  };
  const io = reader.io;
  for (let i = 0; i < files.length;) {
    const first = files[i]!;
    const firstName = io && !first.link ? nameBytes(first.rel) : null;
    if (!io || !firstName) {
      each([first]);
      portable(first);
      i++;
      continue;
    }
    // A run of regular files in one directory (the walk sends a chapter's files together), with
    // their names as bytes.
    const dir = dirOf(first.rel);
    const names = [firstName];
    for (let j = i + 1; j < files.length && names.length < reader.records.capacity; j++) {
      const f = files[j]!;
      const name = f.link || dirOf(f.rel) !== dir ? null : nameBytes(f.rel);
      if (!name) break;
      names.push(name);
    }
    const run = files.slice(i, i + names.length);
    i += names.length;
    each(run);
    const pinned = PinnedDir.open(dir === '' ? root : fsPath(root, dir.slice(0, -1)));
    if (!(pinned instanceof PinnedDir)) {
      // Vanished, or no longer where the walk found it: the portable path words each file's error.
      run.forEach(portable);
      continue;
    }
    try {
      if (analysis === 'header') readHeaders(io, pinned, root, run, names, state, reader.records, out, portable);
      else
        run.forEach((f, k) => {
          const opened = openAt(io, pinned, names[k]!);
          // Failures are rare; the portable path words them exactly as it always has.
          if ('fd' in opened) out.push(analyzeOpened(root, f, analysis, state, opened));
          else portable(f);
        });
    } finally {
      pinned.close();
    }
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
  run: DiscoveredFile[],
  names: Buffer[],
  state: AnalyzerState,
  records: HeaderRecords,
  out: RecordedFile[],
  portable: (f: DiscoveredFile) => void,
): void {
  const { bytes, view, stride } = records;
  const done = io.readHeaders(dir.fd, Buffer.concat(names.flatMap((n) => [n, NUL])), run.length, HEADER_WINDOW, bytes);
  for (let k = 0; k < run.length; k++) {
    const f = run[k]!;
    const at = k * stride;
    if (k >= done || view.getInt32(at, true) !== 0) {
      portable(f);
      continue;
    }
    const got = view.getInt32(at + 4, true);
    const size = view.getFloat64(at + 8, true);
    const mtimeNs = BigInt(view.getFloat64(at + 16, true)) * 1_000_000_000n + BigInt(view.getInt32(at + 24, true));
    const row = analyzeHeaderWindow(root, f, bytes.subarray(at + RECORD_HEAD, at + RECORD_HEAD + got), size, mtimeNs, state);
    if (row) out.push(row);
    else portable(f);
  }
}

const NUL = Buffer.alloc(1);
