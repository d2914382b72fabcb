import type { QueryConfig, QueryResultRow } from 'pg';
import type { Pg } from './connection.ts';

/**
 * PostgreSQL schema as numbered migrations, applied at start under an advisory lock so that
 * several processes starting at once apply each exactly once. Snapshots are kept as text (the
 * exact JSON that was sent; jsonb would reorder keys), paths in the "C" collation so that they
 * sort byte by byte exactly as SQLite's do (paging and exports match the single process).
 */
const V1 = `
CREATE TABLE tasks (
  id               uuid PRIMARY KEY,
  seq              bigserial NOT NULL UNIQUE,
  status           text NOT NULL,
  created_at       text NOT NULL,
  last_event_id    bigint NOT NULL,
  snapshot         text NOT NULL,
  root             text NOT NULL,
  cancel_requested boolean NOT NULL DEFAULT false,
  reuse            text NOT NULL DEFAULT 'none',
  scanner_version  integer NOT NULL DEFAULT 1,
  -- The worker coordinating the task, and when it last said so (a lease: see claimCoordination).
  coordinator      text,
  heartbeat_at     timestamptz
);
CREATE INDEX tasks_by_status ON tasks (status, seq);
-- The latest completed scan of a root: what a rescan reuses.
CREATE INDEX tasks_by_root ON tasks (root, seq) WHERE status = 'completed';

-- Admits a task in one round trip: the admission limit, the task and its first event, atomically.
-- The advisory lock serialises admissions so that MAX_QUEUED_SCANS holds across API processes.
CREATE FUNCTION vl_admit(p_id uuid, p_status text, p_created text, p_first bigint, p_type text, p_snapshot text, p_root text, p_max integer,
                         p_reuse text, p_version integer)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF p_max IS NOT NULL THEN
    PERFORM pg_advisory_xact_lock(7612002);
    IF (SELECT COUNT(*) FROM tasks WHERE status = 'queued') >= p_max THEN
      RETURN false;
    END IF;
  END IF;
  INSERT INTO tasks (id, status, created_at, last_event_id, snapshot, root, reuse, scanner_version)
    VALUES (p_id, p_status, p_created, p_first, p_snapshot, p_root, p_reuse, p_version);
  INSERT INTO events (task_id, id, type, snapshot) VALUES (p_id, p_first, p_type, p_snapshot);
  RETURN true;
END $$;

CREATE TABLE events (
  task_id    uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  id         bigint NOT NULL,
  type       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  snapshot   text NOT NULL,
  PRIMARY KEY (task_id, id)
);

CREATE TABLE results (
  task_id            uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  path               text COLLATE "C" NOT NULL,
  subset             text,
  speaker_id         text,
  chapter_id         text,
  utterance_id       text,
  text_normalized    text,
  text_original      text,
  sample_rate        integer,
  channels           integer,
  bits_per_sample    integer,
  encoding           text,
  frames             bigint,
  duration_s         double precision,
  bytes              bigint,
  peak_dbfs          double precision,
  rms_dbfs           double precision,
  clipped_samples    bigint,
  dc_offset          double precision,
  leading_silence_s  double precision,
  trailing_silence_s double precision,
  snr_db             double precision,
  mtime_ns           bigint,
  sidecars           text,
  reused             boolean NOT NULL DEFAULT false,
  error_code         text,
  error_detail       text,
  -- Sorts numeric speaker ids numerically (result-query.ts speakerKey; SQLite's catalog does the same).
  speaker_key        text COLLATE "C" GENERATED ALWAYS AS (
                       CASE WHEN speaker_id ~ '^[0-9]{1,18}$' THEN lpad(ltrim(speaker_id, '0'), 18, '0') ELSE '~' || speaker_id END) STORED,
  -- Whole words of both transcripts, case-folded, no stemming: the 'simple' configuration.
  text_search        tsvector GENERATED ALWAYS AS (
                       to_tsvector('simple', coalesce(text_normalized, '') || ' ' || coalesce(text_original, ''))) STORED,
  PRIMARY KEY (task_id, path)
);
CREATE INDEX results_by_duration ON results (task_id, duration_s, path);
CREATE INDEX results_by_snr ON results (task_id, snr_db, path);
CREATE INDEX results_by_rms ON results (task_id, rms_dbfs, path);
CREATE INDEX results_by_peak ON results (task_id, peak_dbfs, path);
CREATE INDEX results_by_speaker ON results (task_id, speaker_key, path);
CREATE INDEX results_text ON results USING gin (text_search);

CREATE TABLE speakers (
  task_id    uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  speaker_id text NOT NULL,
  name       text,
  gender     text,
  subsets    text NOT NULL,
  utterances integer NOT NULL,
  failed     integer NOT NULL,
  duration_s double precision NOT NULL,
  median_snr_db double precision,
  reference_clip text,
  PRIMARY KEY (task_id, speaker_id)
);

-- A cluster's scan parts: what each covers, who got how far, and each finished part's aggregate.
CREATE TABLE task_parts (
  task_id      uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  key          text COLLATE "C" NOT NULL,
  spec         text NOT NULL,
  status       text NOT NULL DEFAULT 'pending',
  runs         integer NOT NULL DEFAULT 0,
  worker       text,
  found        integer NOT NULL DEFAULT 0,
  walked       boolean NOT NULL DEFAULT false,
  done         integer NOT NULL DEFAULT 0,
  failed       integer NOT NULL DEFAULT 0,
  bytes        bigint NOT NULL DEFAULT 0,
  reused       integer NOT NULL DEFAULT 0,
  aggregate    text,
  error_code   text,
  error_detail text,
  heartbeat_at timestamptz,
  PRIMARY KEY (task_id, key)
);
`;

/**
 * Transcripts searched in NFC, as queries are read (result-query.ts wordsOf): an accent written
 * as a letter and a combining mark (`e` + U+0301) was a word no search for the composed `é`
 * found. normalize() needs a UTF8 database; any other keeps the old column. The column is made
 * again, which rewrites the table once.
 */
const V2 = `
DROP INDEX IF EXISTS results_text;
ALTER TABLE results DROP COLUMN text_search;
DO $$
BEGIN
  IF current_setting('server_encoding') = 'UTF8' THEN
    ALTER TABLE results ADD COLUMN text_search tsvector GENERATED ALWAYS AS (
      to_tsvector('simple', normalize(coalesce(text_normalized, '') || ' ' || coalesce(text_original, ''), NFC))) STORED;
  ELSE
    ALTER TABLE results ADD COLUMN text_search tsvector GENERATED ALWAYS AS (
      to_tsvector('simple', coalesce(text_normalized, '') || ' ' || coalesce(text_original, ''))) STORED;
  END IF;
END $$;
CREATE INDEX results_text ON results USING gin (text_search);
`;

export const MIGRATIONS: readonly string[] = [V1, V2];

/** An arbitrary, fixed key for pg_advisory_lock: "vl" schema migrations. */
const MIGRATION_LOCK = 7_612_001;

/** Creates or migrates the schema; safe when many processes start at once. */
export async function migrate(db: Pg): Promise<void> {
  const client = await db.pool.connect();
  // Waiting for another process's migration, or migrating a large table, may take longer than a
  // query may (connection.ts QUERY_TIMEOUT_MS).
  // (pg reads `query_timeout` from a query's config too; its types do not declare it.)
  const run = <R extends QueryResultRow>(text: string, values?: unknown[]) => client.query<R>({ text, values, query_timeout: MIGRATION_TIMEOUT_MS } as QueryConfig);
  let failed = false;
  try {
    await run('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await run('CREATE TABLE IF NOT EXISTS vl_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const { rows } = await run<{ v: number | null }>('SELECT MAX(version) AS v FROM vl_migrations');
    for (let v = rows[0]?.v ?? 0; v < MIGRATIONS.length; v++) {
      await run('BEGIN');
      try {
        await run(MIGRATIONS[v]!);
        await run('INSERT INTO vl_migrations (version) VALUES ($1)', [v + 1]);
        await run('COMMIT');
      } catch (err) {
        await run('ROLLBACK');
        throw err;
      }
    }
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    await run('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    client.release(failed);
  }
}

/** Migrations' own query timeout: a day (a migration of a large table, or one waited for). */
const MIGRATION_TIMEOUT_MS = 24 * 3600 * 1000;
