import pg from 'pg';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { FileResult } from '../../src/domain/file-result.ts';
import { openPgStores } from '../../src/store/postgres/index.ts';
import { SCANNER_VERSION } from '../../src/scan/version.ts';
import { queuedSnapshot } from '../../src/tasks/local-queue.ts';
import { clipRow } from '../helpers/result-row.ts';
import { freshDatabaseUrl } from '../helpers/shared-servers.ts';

/** PostgreSQL schema migrations, run on a database an earlier release made and filled. */

/** The transcripts' search column as migration 1 made it, before NFC. */
const V1_TEXT_SEARCH = `ALTER TABLE results ADD COLUMN text_search tsvector GENERATED ALWAYS AS (
  to_tsvector('simple', coalesce(text_normalized, '') || ' ' || coalesce(text_original, ''))) STORED`;

describe('PostgreSQL migration 2: transcripts searched in NFC', () => {
  it('rows recorded before it are found by a composed accent when written decomposed, and by a word with vowel signs', async () => {
    const url = await freshDatabaseUrl();
    const first = await openPgStores(url);
    const snapshot = queuedSnapshot({ libritts_path: '/data/fr', root: '/data/fr', analysis: 'header' });
    const taskId = snapshot.task_id;
    await first.tasks.insertTask({ snapshot, root: '/data/fr', reuse: 'none', scannerVersion: SCANNER_VERSION }, { id: 1, type: 'progress', snapshot });
    const row = (path: string, text: string): FileResult => clipRow(path, { text_normalized: text, text_original: text.toUpperCase() });
    await first.results.insertResults(taskId, [row('a.wav', 'Un cafe\u0301 noir.'), row('b.wav', 'Un café crème.'), row('c.wav', 'हिन्दी कविता'), row('d.wav', 'Plain words.')]);
    await first.close();
    // As migration 1 left it: the column without NFC, migration 2 not applied.
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query('DROP INDEX results_text');
      await c.query('ALTER TABLE results DROP COLUMN text_search');
      await c.query(V1_TEXT_SEARCH);
      await c.query('CREATE INDEX results_text ON results USING gin (text_search)');
      await c.query('DELETE FROM vl_migrations WHERE version >= 2');
    } finally {
      await c.end();
    }
    const stores = await openPgStores(url);
    onTestFinished(() => stores.close());
    const found = async (q: string) => (await stores.results.page(taskId, { filter: { q }, sort: { key: 'path', desc: false }, limit: 10 })).rows.map((r) => r.path);
    expect(await found('CAFÉ')).toEqual(['a.wav', 'b.wav']);
    expect(await found('cafe\u0301 noir')).toEqual(['a.wav']);
    expect(await found('हिन्दी')).toEqual(['c.wav']);
    expect(await found('words')).toEqual(['d.wav']);
  });
});
