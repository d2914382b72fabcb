import type Database from 'better-sqlite3';
import { RESULT_COLUMNS } from '../../domain/file-result.ts';
import type { RecordedFile } from '../types.ts';

const COLS = [...RESULT_COLUMNS, 'error_code', 'error_detail'];

// Positional parameters: binding by name costs about twice as much per row. A path recorded
// before (a resumed part) keeps its first row: rows never change, which the catalog relies on.
const INSERT_SQL = `INSERT INTO results (task, ${COLS.join(', ')}, mtime_ns, sidecars, reused) VALUES (?, ${COLS.map(() => '?').join(', ')}, ?, ?, ?) ON CONFLICT (task, path) DO NOTHING`;

/**
 * Records a batch of a task's rows in one transaction, on the connection given: the store's own
 * (result-store.ts), or a scan thread's (row-writer.ts).
 */
export function rowInserter(db: Database.Database): Database.Transaction<(task: number, rows: RecordedFile[]) => void> {
  const insert = db.prepare(INSERT_SQL);
  return db.transaction((task: number, rows: RecordedFile[]) => {
    for (const r of rows) {
      insert.run(
        task,
        r.path,
        r.subset,
        r.speaker_id,
        r.chapter_id,
        r.utterance_id,
        r.text_normalized,
        r.text_original,
        r.sample_rate,
        r.channels,
        r.bits_per_sample,
        r.encoding,
        r.frames,
        r.duration_s,
        r.bytes,
        r.peak_dbfs,
        r.rms_dbfs,
        r.clipped_samples,
        r.dc_offset,
        r.leading_silence_s,
        r.trailing_silence_s,
        r.snr_db,
        r.error?.code ?? null,
        r.error?.detail ?? null,
        r.mtime_ns === null || r.mtime_ns === undefined ? null : BigInt(r.mtime_ns),
        r.sidecars ?? null,
        r.reused ? 1 : 0,
      );
    }
  });
}
