import type { Analysis } from '../scan/types.ts';

export type TaskStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
export type TaskPhase = 'discovering' | 'processing' | 'finalizing';
export type TerminalStatus = Extract<TaskStatus, 'completed' | 'failed' | 'cancelled'>;

export const TERMINAL: ReadonlySet<TaskStatus> = new Set(['completed', 'failed', 'cancelled']);
export const isTerminal = (s: TaskStatus): s is TerminalStatus => TERMINAL.has(s);

export interface ScanSummary {
  utterances: number;
  failed: number;
  speakers: number;
  duration_s: number;
  sample_rates: Record<string, number>;
  subsets: Record<string, number>;
  /** Clip durations of the good files in `bin_s`-wide bins from 0 s; the last bin holds the rest. */
  duration_histogram: { bin_s: number; counts: number[] };
}

/** The task snapshot of `scan-status` and of every SSE event's data (API.md). */
export interface TaskSnapshot {
  task_id: string;
  status: TaskStatus;
  phase: TaskPhase | null;
  progress: number;
  message: string;
  libritts_path: string;
  analysis: Analysis;
  subsets: string[] | null;
  files_total: number | null;
  files_done: number;
  files_failed: number;
  bytes_done: number;
  files_per_s: number | null;
  eta_s: number | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  error: { code: string; detail: string } | null;
  summary: ScanSummary | null;
}

/** SSE event names; never `error`, which collides with EventSource's own listener. */
export type TaskEventType = 'progress' | TerminalStatus;

/** One event of a task's stream; `id` increases within the task, across restarts too. */
export interface TaskEvent {
  id: number;
  type: TaskEventType;
  snapshot: TaskSnapshot;
}

/** What a client asks to scan (validated). */
export interface ScanRequest {
  libritts_path: string;
  analysis: Analysis;
  subsets?: string[] | undefined;
}
