import type { Analysis, FileError, FileFingerprint, RecordedFile, Tally } from '../domain/file-result.ts';
import type { SpeakerInfo } from './libritts.ts';
import type { AggregateState, PartSpec, WalkScope } from '../domain/scan-part.ts';
import type { RowTarget } from '../store/types.ts';

export type { PartSpec, WalkScope } from '../domain/scan-part.ts';

/** A discovered file, relative to the scan root (always `/`-separated; see file-names.ts). */
export interface DiscoveredFile {
  rel: string;
  /** The directory entry is a symlink: the worker must check where it leads. */
  link: boolean;
  /** From a rescan's walk (regular files only): what to match against the reference scan's row. */
  fp?: FileFingerprint | undefined;
  /**
   * A folder the walk could not list (`rel` is its path and a `/`, `./` for the root): recorded
   * as a failed row, never read, so that what it holds is not missing from the results unseen.
   */
  unlisted?: FileError | undefined;
}

/**
 * The WAV files of one folder, packed: what a walk that takes no fingerprints hands on. One
 * object and one run of bytes per folder instead of an object and a string per file, which a
 * 50,000-file header scan cloned twice (walk → main thread → reading thread), ~0.6 µs a file
 * each time, and the reading thread then turned back into bytes.
 */
export interface FolderFiles {
  /** The folder, relative to the scan root, in the text form of file-names.ts ('' for the root). */
  dir: string;
  /** Each file's name as bytes, followed by a NUL, in the walk's order. */
  names: Uint8Array;
  count: number;
  /** 1 where the entry is a symlink (the reader checks where it leads); null when none is. */
  links: Uint8Array | null;
}

/** What a batch holds: files one by one (a rescan's, a resumed part's), folders packed, or both. */
export type ScanItem = DiscoveredFile | FolderFiles;

/**
 * What a scan thread tells of a batch it recorded itself: counts and the batch's part of the
 * summary. `rows` and `failed` count the rows copied from a rescan's reference too, `reused`
 * those alone; `bytes` and `outcomes` only the files read.
 */
export interface WrittenBatch extends Tally {
  reused: number;
  summary: AggregateState;
}

/** Main thread → scan worker. Every request names the root, which the worker re-checks first. */
export type WorkerRequest =
  | { type: 'batch'; id: number; root: string; analysis: Analysis; files: ScanItem[]; write: RowTarget | null }
  | { type: 'walk'; id: number; root: string; scope: WalkScope; batch: number; fingerprints: boolean }
  | { type: 'plan'; id: number; root: string; subsets: string[] | null }
  | { type: 'count'; id: number; root: string; scopes: WalkScope[] }
  | { type: 'speakers'; id: number; root: string };

/** Scan worker → main thread. A walk answers with `found` messages, then `walked`. */
export type WorkerResponse =
  | { type: 'result'; id: number; results: RecordedFile[] }
  | { type: 'written'; id: number; batch: WrittenBatch }
  | { type: 'write-failed'; id: number; storageFull: boolean; message: string }
  | { type: 'found'; id: number; files: ScanItem[] }
  | { type: 'walked'; id: number }
  | { type: 'speakers'; id: number; speakers: SpeakerInfo[] }
  | { type: 'plan'; id: number; parts: PartSpec[] }
  | { type: 'count'; id: number; files: number }
  | { type: 'refused'; id: number; code: RootRefusalCode; detail: string };

export type RootRefusalCode = 'PATH_NOT_FOUND' | 'NOT_A_DIRECTORY' | 'PATH_NOT_ALLOWED';

/** Faults a test can inject into scan workers (see test/scan/worker-pool.test.ts). */
export interface WorkerFaults {
  /** A worker exits when it reaches a file whose path ends with this. */
  crashOn?: string;
  /**
   * Inside its turn to record rows (store/sqlite/write-gate.ts), when the batch holds a file whose
   * path ends with `on`, a worker exits (a crash at that moment) or hangs there until terminated
   * (for a cancel at that moment).
   */
  inTurn?: { on: string; then: 'exit' | 'hang' };
  /**
   * A worker blocks in a read of this FIFO (opened without O_NONBLOCK) when it reaches a file
   * whose path ends with `hangOn`: a system call that never returns, like one on a hung mount.
   */
  hangOn?: { suffix: string; fifo: string };
  /**
   * SQLite's `max_page_count`, shared with the test: a scan thread's connection applies it before
   * each batch it records (the limit is per connection), so a test can fill the database for
   * every connection of the service at once. 0: no limit set.
   */
  dbPageLimit?: Int32Array;
}
