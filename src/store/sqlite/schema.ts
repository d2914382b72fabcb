/**
 * SQLite schema as numbered migrations; `PRAGMA user_version` records how many have run, and
 * each runs once, in its own transaction, when the store opens.
 */
const V1 = `
CREATE TABLE IF NOT EXISTS tasks (
  id            TEXT PRIMARY KEY,
  seq           INTEGER NOT NULL,
  status        TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  last_event_id INTEGER NOT NULL,
  snapshot      TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS tasks_by_seq ON tasks (seq);
CREATE INDEX IF NOT EXISTS tasks_by_status ON tasks (status, seq);

-- Results key on the task's integer seq, not its UUID: a third of the row, and faster inserts.
CREATE TABLE IF NOT EXISTS results (
  task               INTEGER NOT NULL,
  path               TEXT NOT NULL,
  subset             TEXT,
  speaker_id         TEXT,
  chapter_id         TEXT,
  utterance_id       TEXT,
  text_normalized    TEXT,
  text_original      TEXT,
  sample_rate        INTEGER,
  channels           INTEGER,
  bits_per_sample    INTEGER,
  encoding           TEXT,
  frames             INTEGER,
  duration_s         REAL,
  bytes              INTEGER,
  peak_dbfs          REAL,
  rms_dbfs           REAL,
  clipped_samples    INTEGER,
  dc_offset          REAL,
  leading_silence_s  REAL,
  trailing_silence_s REAL,
  error_code         TEXT,
  error_detail       TEXT,
  PRIMARY KEY (task, path)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS speakers (
  task_id     TEXT NOT NULL,
  speaker_id  TEXT NOT NULL,
  name        TEXT,
  gender      TEXT,
  subsets     TEXT NOT NULL,
  utterances  INTEGER NOT NULL,
  failed      INTEGER NOT NULL,
  duration_s  REAL NOT NULL,
  PRIMARY KEY (task_id, speaker_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS events (
  task_id    TEXT NOT NULL,
  id         INTEGER NOT NULL,
  type       TEXT NOT NULL,
  created_at TEXT NOT NULL,
  snapshot   TEXT NOT NULL,
  PRIMARY KEY (task_id, id)
) WITHOUT ROWID;
`;

/** v2: the resolved root a task scans, and a cancel that must survive a restart. */
const V2 = `
ALTER TABLE tasks ADD COLUMN root TEXT;
ALTER TABLE tasks ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
UPDATE tasks SET root = CASE WHEN json_valid(snapshot) THEN json_extract(snapshot, '$.libritts_path') END WHERE root IS NULL;
`;

/**
 * v3 (voice library): results become a rowid table — `rid` is the order rows were recorded in,
 * which the catalog indexer follows — and gain `snr_db`, and for incremental rescans the file's
 * `mtime_ns`, the fingerprints of the transcript files that decided the row (`sidecars`) and
 * whether the row was copied from an earlier scan (`reused`). The catalog holds each row's filter and sort columns under indexes, and
 * its transcripts under full-text search (FTS5), filled by a background indexer (maintenance.ts)
 * so that recording a scan's rows stays as cheap as before. Tasks remember how they may reuse
 * earlier scans and which analyzer produced them; speakers gain the voice-library figures.
 */
const V3 = `
CREATE TABLE results_v3 (
  rid                INTEGER PRIMARY KEY,
  task               INTEGER NOT NULL,
  path               TEXT NOT NULL,
  subset             TEXT,
  speaker_id         TEXT,
  chapter_id         TEXT,
  utterance_id       TEXT,
  text_normalized    TEXT,
  text_original      TEXT,
  sample_rate        INTEGER,
  channels           INTEGER,
  bits_per_sample    INTEGER,
  encoding           TEXT,
  frames             INTEGER,
  duration_s         REAL,
  bytes              INTEGER,
  peak_dbfs          REAL,
  rms_dbfs           REAL,
  clipped_samples    INTEGER,
  dc_offset          REAL,
  leading_silence_s  REAL,
  trailing_silence_s REAL,
  snr_db             REAL,
  mtime_ns           INTEGER,
  sidecars           TEXT,
  reused             INTEGER NOT NULL DEFAULT 0,
  error_code         TEXT,
  error_detail       TEXT,
  UNIQUE (task, path)
);
INSERT INTO results_v3 (task, path, subset, speaker_id, chapter_id, utterance_id, text_normalized, text_original, sample_rate, channels,
  bits_per_sample, encoding, frames, duration_s, bytes, peak_dbfs, rms_dbfs, clipped_samples, dc_offset, leading_silence_s, trailing_silence_s,
  error_code, error_detail)
SELECT task, path, subset, speaker_id, chapter_id, utterance_id, text_normalized, text_original, sample_rate, channels,
  bits_per_sample, encoding, frames, duration_s, bytes, peak_dbfs, rms_dbfs, clipped_samples, dc_offset, leading_silence_s, trailing_silence_s,
  error_code, error_detail
FROM results ORDER BY task, path;
DROP TABLE results;
ALTER TABLE results_v3 RENAME TO results;

CREATE TABLE catalog (
  rid             INTEGER PRIMARY KEY,
  task            INTEGER NOT NULL,
  path            TEXT NOT NULL,
  speaker_key     TEXT,
  subset          TEXT,
  chapter_id      TEXT,
  duration_s      REAL,
  snr_db          REAL,
  rms_dbfs        REAL,
  peak_dbfs       REAL,
  clipped_samples INTEGER,
  error_code      TEXT
);
CREATE INDEX catalog_path ON catalog (task, path);
-- The duration index carries every filter column after its key: counts of filtered rows read it
-- alone (covering), 7 ms instead of 196 ms for a 6–12 s window over 375k rows (bench/library.ts).
CREATE INDEX catalog_duration ON catalog (task, duration_s, path, snr_db, clipped_samples, peak_dbfs, subset, speaker_key, chapter_id, error_code);
CREATE INDEX catalog_snr ON catalog (task, snr_db, path);
CREATE INDEX catalog_rms ON catalog (task, rms_dbfs, path);
CREATE INDEX catalog_peak ON catalog (task, peak_dbfs, path);
CREATE INDEX catalog_speaker ON catalog (task, speaker_key, path);
CREATE INDEX catalog_failed ON catalog (task, path) WHERE error_code IS NOT NULL;
-- Transcripts by task: the task column holds one token, t<seq>, so that a search reads the
-- posting lists of its task only, however many tasks the store holds.
CREATE VIRTUAL TABLE catalog_text USING fts5(text_normalized, text_original, task, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 0');
CREATE TABLE catalog_state (id INTEGER PRIMARY KEY CHECK (id = 1), indexed_rid INTEGER NOT NULL);
INSERT INTO catalog_state (id, indexed_rid) VALUES (1, 0);

ALTER TABLE tasks ADD COLUMN reuse TEXT NOT NULL DEFAULT 'none';
ALTER TABLE tasks ADD COLUMN scanner_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE speakers ADD COLUMN median_snr_db REAL;
ALTER TABLE speakers ADD COLUMN reference_clip TEXT;
`;

/**
 * The latest completed scan of a root (what a rescan reuses, task-store.ts findReference), by
 * index, as in PostgreSQL: found through tasks_by_status it was a walk over every completed
 * task, newest first, until one of that root: 20 ms on the main thread with 50,000 tasks of
 * other roots. Partial: running tasks' event updates (which set `status`) add no index entries.
 */
const V4 = `
CREATE INDEX tasks_by_root ON tasks (root, seq) WHERE status = 'completed';
`;

/**
 * Events keyed by their task's integer seq instead of its UUID. Keyed by UUID, every event went to
 * a random page of the table, so each commit of the event log wrote a page of its own per event;
 * by seq, the events of the tasks of the moment share the table's last pages. Measured on the
 * pattern of a flood of POSTs (a task inserted, two events a commit, for the newest tasks): WAL
 * frames 8.4 → 6.3 a commit, the task's insert 67 → 46 µs, a two-event commit 75 → 55 µs.
 */
const V5 = `
CREATE TABLE events_by_seq (
  task       INTEGER NOT NULL,
  id         INTEGER NOT NULL,
  type       TEXT NOT NULL,
  created_at TEXT NOT NULL,
  snapshot   TEXT NOT NULL,
  PRIMARY KEY (task, id)
) WITHOUT ROWID;
INSERT INTO events_by_seq (task, id, type, created_at, snapshot)
  SELECT t.seq, e.id, e.type, e.created_at, e.snapshot FROM events e JOIN tasks t ON t.id = e.task_id;
DROP TABLE events;
ALTER TABLE events_by_seq RENAME TO events;
`;

/**
 * The catalog columns of result rows, from the results table (used by the indexer). The speaker
 * key sorts numeric ids numerically (result-query.ts speakerKey).
 */
export const CATALOG_SELECT = `rid, task, path,
  CASE WHEN speaker_id IS NULL THEN NULL
       WHEN speaker_id <> '' AND speaker_id NOT GLOB '*[^0-9]*' AND length(speaker_id) <= 18 THEN printf('%018d', CAST(speaker_id AS INTEGER))
       ELSE '~' || speaker_id END,
  subset, chapter_id, duration_s, snr_db, rms_dbfs, peak_dbfs, clipped_samples, error_code`;

/**
 * Indexes the rows the catalog's watermark passed without indexing: before stop 22, deleting the
 * task that held the largest row ids let the next rows take those ids, below the watermark, and
 * a later scan could then not be filtered, sorted or searched (task-store.ts deleteTask now
 * lowers the watermark). A deleted task's catalog rows and transcripts went with it, so these
 * rids are in neither.
 */
const V6 = `
CREATE TEMP TABLE missed AS
  SELECT rid FROM results WHERE rid <= (SELECT indexed_rid FROM catalog_state WHERE id = 1) AND rid NOT IN (SELECT rid FROM catalog);
INSERT OR REPLACE INTO catalog SELECT ${CATALOG_SELECT} FROM results WHERE rid IN (SELECT rid FROM missed);
INSERT INTO catalog_text (rowid, text_normalized, text_original, task)
  SELECT rid, text_normalized, text_original, 't' || task FROM results WHERE rid IN (SELECT rid FROM missed);
DROP TABLE missed;
`;

/**
 * The full-text columns of result rows (catalog_text), from the results table: the transcripts
 * in NFC (sql-functions.ts nfc), as searches see words (result-query.ts wordsOf), and the task's
 * token.
 */
export const CATALOG_TEXT_SELECT = "rid, nfc(text_normalized), nfc(text_original), 't' || task";

/**
 * The full-text index made again (stop 23): transcripts in NFC, as searches are read (an accent
 * written as a letter and a combining mark, `e` + U+0301, was found by no search for the
 * composed word), and marks as parts of words (`categories`: unicode61 split `हिन्दी` at its vowel
 * signs, so that `ह` found it). Every indexed row is indexed again, on the first start after the
 * upgrade (100,000 rows of 12-word transcripts: 0.48 s); rows the watermark has not passed are
 * left to the indexer.
 */
const V7 = `
DROP TABLE catalog_text;
CREATE VIRTUAL TABLE catalog_text USING fts5(text_normalized, text_original, task, content='', contentless_delete=1,
  tokenize='unicode61 remove_diacritics 0 categories ''L* N* Co M*''');
INSERT INTO catalog_text (rowid, text_normalized, text_original, task)
  SELECT ${CATALOG_TEXT_SELECT} FROM results WHERE rid IN (SELECT rid FROM catalog) ORDER BY rid;
`;

export const MIGRATIONS: readonly string[] = [V1, V2, V3, V4, V5, V6, V7];
