/** SQLite schema, applied idempotently at open; `user_version` numbers later migrations. */
export const SCHEMA_VERSION = 1;

export const SCHEMA = `
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
