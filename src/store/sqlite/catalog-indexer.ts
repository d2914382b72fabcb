import type Database from 'better-sqlite3';
import { CATALOG_SELECT, CATALOG_TEXT_SELECT } from './schema.ts';

/**
 * Rows per indexing transaction: small, because a scan's own writes wait while one runs
 * (~30 µs a row with seven indexes and the full-text index: 250 rows hold the lock ~8 ms).
 */
const CHUNK = 500;

/**
 * Fills the catalog (filter and sort columns, full-text transcripts) from the results recorded
 * since the last run, following `rid` (the order rows were recorded in). Rows are never changed
 * once recorded (ON CONFLICT DO NOTHING), so what is indexed stays true; a task's delete removes
 * its catalog rows after its results, so a chunk indexed meanwhile leaves nothing behind.
 */
export function catalogIndexer(db: Database.Database, opts: { checkpointEvery?: number; gate?: Int32Array } = {}): (stop?: () => boolean) => void {
  const gate = opts.gate;
  /** Lets the main thread's writers through first (write-gate.ts). */
  const giveWay = (): void => {
    if (!gate) return;
    for (let n = Atomics.load(gate, 0); n > 0; n = Atomics.load(gate, 0)) Atomics.wait(gate, 0, n, 50);
  };
  const st = {
    state: db.prepare('SELECT indexed_rid AS rid FROM catalog_state WHERE id = 1'),
    catalog: db.prepare(`INSERT OR REPLACE INTO catalog SELECT ${CATALOG_SELECT} FROM results WHERE rid > ? AND rid <= ?`),
    text: db.prepare(`INSERT INTO catalog_text (rowid, text_normalized, text_original, task) SELECT ${CATALOG_TEXT_SELECT} FROM results WHERE rid > ? AND rid <= ?`),
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
  /** Indexes until nothing is left, or `stop()` says so between chunks. */
  return (stop) => {
    // Rows recorded meanwhile are indexed too. A long catch-up checkpoints as it goes: SQLite's own
    // automatic checkpoints ran at nearly every commit here (the indexes touch pages all over the
    // file), and took 36 s of the 52 s that 375k rows took to index; every 64 chunks, 29 s in all.
    // IMMEDIATE: the write lock is taken (or waited for) before the chunk reads its watermark. A
    // deferred transaction that reads and then writes fails at once with SQLITE_BUSY when another
    // connection — a scan thread's — commits in between; busy handlers do not retry that case.
    for (let n = 1; !stop?.() && (giveWay(), step.immediate()); n++) {
      if (opts.checkpointEvery && n % opts.checkpointEvery === 0) {
        try {
          db.pragma('wal_checkpoint(PASSIVE)');
        } catch {
          // busy: the next one
        }
      }
    }
  };
}
