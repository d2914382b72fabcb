import type Database from 'better-sqlite3';

/**
 * Deleting result rows with what indexes them (a task's delete, task-store.ts; the rows of
 * vanished files, result-store.ts deleteResults), inside the caller's transaction.
 *
 * SQLite gives a new row the largest rid + 1: once the largest rows are deleted, the next rows
 * take rids the catalog's watermark has passed, and would never be indexed; and a freed rid's old
 * catalog entry and words must be gone before a new row takes it, or they would match that row.
 * So a row goes with its catalog entry and transcripts, and the watermark is lowered after.
 */
export function rowDrops(db: Database.Database) {
  const st = {
    catalogRow: db.prepare('DELETE FROM catalog WHERE rid = ?'),
    catalogText: db.prepare('DELETE FROM catalog_text WHERE rowid = ?'),
    resultRow: db.prepare('DELETE FROM results WHERE rid = ?'),
    lowerWatermark: db.prepare('UPDATE catalog_state SET indexed_rid = MIN(indexed_rid, COALESCE((SELECT MAX(rid) FROM results), 0)) WHERE id = 1'),
  };
  return {
    /** Drops a row's catalog entry and transcripts. */
    index(rid: number): void {
      st.catalogRow.run(rid);
      st.catalogText.run(rid);
    },
    /** Drops a row with its catalog entry and transcripts. */
    row(rid: number): void {
      this.index(rid);
      st.resultRow.run(rid);
    },
    /** Lowers the catalog's watermark to the largest rid left: after rows were dropped. */
    lowerWatermark(): void {
      st.lowerWatermark.run();
    },
  };
}
