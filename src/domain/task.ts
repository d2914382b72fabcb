import { z } from 'zod';
import { AnalysisSchema } from './file-result.ts';

export const TASK_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export const TaskStatusSchema = z.enum(TASK_STATUSES);
export type TaskStatus = z.infer<typeof TaskStatusSchema>;

export const TaskPhaseSchema = z.enum(['discovering', 'processing', 'finalizing']);
export type TaskPhase = z.infer<typeof TaskPhaseSchema>;

export type TerminalStatus = Extract<TaskStatus, 'completed' | 'failed' | 'cancelled'>;
export const TERMINAL: ReadonlySet<TaskStatus> = new Set(['completed', 'failed', 'cancelled']);
export const isTerminal = (s: TaskStatus): s is TerminalStatus => TERMINAL.has(s);

/** Codes of a failed task's `error.code` (API.md "Errors"). */
export const TASK_ERROR_CODES = ['PATH_NOT_FOUND', 'NOT_A_DIRECTORY', 'PATH_NOT_ALLOWED', 'TOO_MANY_FILES', 'STORAGE_FULL', 'STORE_WRITE_FAILED', 'INTERNAL_ERROR'] as const;
export const TaskErrorCodeSchema = z.enum(TASK_ERROR_CODES);
export type TaskErrorCode = z.infer<typeof TaskErrorCodeSchema>;

export const ScanSummarySchema = z.object({
  utterances: z.number().int(),
  failed: z.number().int(),
  speakers: z.number().int(),
  duration_s: z.number(),
  sample_rates: z.record(z.string(), z.number().int()),
  subsets: z.record(z.string(), z.number().int()),
  /** Files whose rows were copied from an earlier scan instead of read. */
  files_reused: z.number().int().default(0),
  /** Clip durations of the good files in `bin_s`-wide bins from 0 s; the last bin holds the rest. */
  duration_histogram: z.object({ bin_s: z.number(), counts: z.array(z.number().int()) }),
});
export type ScanSummary = z.infer<typeof ScanSummarySchema>;

/** The task snapshot of `scan-status` and of every SSE event's data (API.md). */
export const TaskSnapshotSchema = z.object({
  task_id: z.string(),
  status: TaskStatusSchema,
  phase: TaskPhaseSchema.nullable(),
  progress: z.number().int().min(0).max(100),
  message: z.string(),
  libritts_path: z.string(),
  analysis: AnalysisSchema,
  subsets: z.array(z.string()).nullable(),
  files_total: z.number().int().nullable(),
  files_done: z.number().int(),
  files_failed: z.number().int(),
  /** Files whose rows were copied from an earlier scan (API.md `reuse`); 0 in snapshots stored before v2. */
  files_reused: z.number().int().default(0),
  bytes_done: z.number().int(),
  files_per_s: z.number().nullable(),
  eta_s: z.number().nullable(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  error: z.object({ code: z.string(), detail: z.string() }).nullable(),
  summary: ScanSummarySchema.nullable(),
});
export type TaskSnapshot = z.infer<typeof TaskSnapshotSchema>;

/** SSE event names; never `error`, which collides with EventSource's own listener. */
export type TaskEventType = 'progress' | TerminalStatus;

/** One event of a task's stream; `id` increases within the task, across restarts too. */
export interface TaskEvent {
  id: number;
  type: TaskEventType;
  snapshot: TaskSnapshot;
}

/** What a client asks to scan, validated, with the root resolved once when it was accepted. */
export interface ScanRequest {
  libritts_path: string;
  /** The real path of `libritts_path` when the request was accepted: what the scan reads. */
  root: string;
  analysis: z.infer<typeof AnalysisSchema>;
  subsets?: string[] | undefined;
  /** Copy the rows of unchanged files from the latest completed scan of the root (default), or read everything. */
  reuse?: ReuseMode | undefined;
}

export const ReuseModeSchema = z.enum(['auto', 'none']);
export type ReuseMode = z.infer<typeof ReuseModeSchema>;

/** The scan a rescan copies unchanged files' rows from. */
export interface ReuseReference {
  taskId: string;
  analysis: z.infer<typeof AnalysisSchema>;
}
