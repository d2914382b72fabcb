import type { Analysis } from '../domain/file-result.ts';
import type { ScanSummary, TaskPhase } from '../domain/task.ts';

/** What the runner hands a scanner: one task's parameters. */
export interface ScanJob {
  task_id: string;
  /** The root resolved when the request was accepted; workers re-check it before any read. */
  root: string;
  analysis: Analysis;
  subsets: string[] | null;
}

export interface ScanProgress {
  message?: string;
  files_total?: number | null;
  files_done?: number;
  files_failed?: number;
  bytes_done?: number;
  files_per_s?: number | null;
  eta_s?: number | null;
}

/** How a scanner reports back; the runner coalesces `progress` and emits `phase` at once. */
export interface ScanContext {
  signal: AbortSignal;
  phase(phase: TaskPhase, update: ScanProgress): void;
  progress(update: ScanProgress): void;
}

/** Does one task's work; resolves with its summary, rejects with ScanFailure or AbortError. */
export interface Scanner {
  scan(job: ScanJob, ctx: ScanContext): Promise<ScanSummary>;
}

/** A scan that cannot go on; `code` becomes the task's `error.code`. */
export class ScanFailure extends Error {
  override readonly name = 'ScanFailure';
  constructor(
    readonly code: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}
