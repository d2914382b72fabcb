import type { SummaryRow } from './file-result.ts';

// What a scan part is and reports: shared by the scan pipeline, the task layer and the store that
// keeps parts (PostgreSQL in a cluster), which sits below the scan and must not import it.

/** Where a walk starts and how deep it goes (a scan part's scope; see plan.ts). */
export interface WalkScope {
  /** Directories to start from, relative to the root ('' is the root itself). */
  dirs: readonly string[];
  /** Walk into subdirectories (true), or list only the files directly in `dirs`. */
  recursive: boolean;
  /** Keep only the files whose name hashes to `index` of `count` (a flat folder split in shards). */
  shard?: { index: number; count: number } | undefined;
}

/** One part of a scan: a scope to walk and read, done by whichever worker takes it. */
export interface PartSpec {
  /** Stable name of the part within its task (a folder path, or `/loose/i`, which no folder path can be). */
  key: string;
  scope: WalkScope;
}

/** Where one part of one task stands; counts include files recorded by an earlier run. */
export interface PartProgress {
  /** Files the walk has found so far. */
  found: number;
  /** The walk has ended: `found` is final. */
  walked: boolean;
  done: number;
  failed: number;
  /** Files whose rows were copied from the reference scan (included in `done`). */
  reused: number;
  /** Bytes of the files read (recorded by this or an earlier run); reused files add nothing. */
  bytes: number;
}

/** A part that has not started. */
export const NO_PROGRESS: Readonly<PartProgress> = { found: 0, walked: false, done: 0, failed: 0, reused: 0, bytes: 0 };

/** An aggregator's state as plain JSON: what a part hands to the task's finalizing step. */
export interface AggregateState {
  utterances: number;
  failed: number;
  duration: number;
  sampleRates: Record<string, number>;
  subsets: Record<string, number>;
  durations: number[];
  speakers: [string, { utterances: number; failed: number; duration: number; subsets: string[]; snrs: number[]; best: SummaryRow | null }][];
}
