import type { Analysis, FileResult } from '../domain/file-result.ts';

/**
 * One download format: a module per format behind this interface (registry.ts). A format gets
 * the task's context and a sink; it writes its bytes to the sink as it reads the rows, so that
 * nothing grows with the size of the task.
 */

/** Where a format writes: the HTTP stream. `write` resolves when the client has taken the chunk. */
export interface Sink {
  write(chunk: string | Uint8Array): Promise<unknown>;
  /** The client went away: stop. */
  readonly aborted: boolean;
}

export interface SpeakerInfo {
  name: string | null;
  /** As speakers.tsv says it: `F` or `M`; null when unknown. */
  gender: string | null;
}

/** Which transcript a manifest's text column carries. */
export type TextChoice = 'normalized' | 'original';

export interface ExportContext {
  taskId: string;
  analysis: Analysis;
  /**
   * The absolute root that manifests write paths under: the scanned root, or `path_prefix` (the
   * training machine's mount). No trailing slash.
   */
  root: string;
  text: TextChoice;
  speakers: ReadonlyMap<string, SpeakerInfo>;
  /**
   * The rows to write, in the requested order: the filters applied, failed rows left out. Each
   * call starts a new pass (NeMo reads the speakers first).
   */
  rows(): AsyncIterable<FileResult>;
  /** A private temporary directory, removed when the download ends (spooled tar members). */
  tempDir(): Promise<string>;
}

export interface ExportFormat {
  /** The `format` parameter's value. */
  name: string;
  contentType: string;
  /** The download's file name (Content-Disposition). */
  filename(taskId: string): string;
  write(ctx: ExportContext, out: Sink): Promise<void>;
}
