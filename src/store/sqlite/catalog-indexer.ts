import type Database from 'better-sqlite3';
import { CATALOG_SELECT } from './schema.ts';

/**
 * Rows per indexing transaction: small, because a scan's own writes wait while one runs
 * (~12 µs a row: 500 rows hold the write lock ~6 ms).
 */
const CHUNK = 500;

/**
 * Fills the catalog (filter and sort columns, full-text transcripts) from the results recorded
 * since the last run, following `rid` (the order rows were recorded in). Rows are never changed
 * once recorded (ON CONFLICT DO NOTHING), so what is indexed stays true; a task's delete removes
 * its catalog rows after its results, so a chunk indexed meanwhile leaves nothing behind.
 */
export function catalogIndexer(db: Database.Database): () => void {
  const st = {
    state: db.prepare('SELECT indexed_rid AS rid FROM catalog_state WHERE id = 1'),
    catalog: db.prepare(`INSERT OR REPLACE INTO catalog SELECT ${CATALOG_SELECT} FROM results WHERE rid > ? AND rid <= ?`),
    text: db.prepare('INSERT INTO catalog_text (rowid, text_normalized, text_original) SELECT rid, text_normalized, text_original FROM results WHERE rid > ? AND rid <= ?'),
    lastOfChunk: db.prepare(`SELECT MAX(rid) AS rid FROM (SELECT rid FROM results WHERE rid > ? ORDER BY rid LIMIT ${CHUNK})`),
    advance: db.prepare('UPDATE catalog_state SET indexed_rid = ? WHERE id = 1'),
  };
  /** Indexes one chunk; false when nothing was left. */
  const step = db.transaction((): boolean => {
    const from = (st.state.get() as { rid: number }).rid;
    const to = (st.lastOfChunk.get(from) as { rid: number | null }).rid;
    if (to === null) return false;
    st.catalog.run(from, to);
    st.text.run(from, to);
    st.advance.run(to);
    return true;
  });
  return () => {
    while (step()) {
      // rows recorded meanwhile are indexed too
    }
  };
}
