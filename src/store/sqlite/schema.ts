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

export const MIGRATIONS: readonly string[] = [V1, V2];
