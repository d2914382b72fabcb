/**
 * The result filters and sorts of API.md ("scan-results"), as one store-neutral description and
 * one SQL builder that both stores use, so that SQLite and PostgreSQL answer the same rows in the
 * same order (checked by the store contract suite).
 */

export const SORT_KEYS = ['path', 'duration_s', 'snr_db', 'rms_dbfs', 'peak_dbfs', 'speaker_id'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface ResultSort {
  key: SortKey;
  /** Descending (a leading `-`): ties are then broken by path descending too. */
  desc: boolean;
}

export interface ResultFilter {
  speaker_id?: string[] | undefined;
  subset?: string[] | undefined;
  chapter_id?: string[] | undefined;
  min_duration?: number | undefined;
  max_duration?: number | undefined;
  min_snr_db?: number | undefined;
  max_peak_dbfs?: number | undefined;
  clipped?: boolean | undefined;
  /** Words that must each occur as a word in either transcript, case-insensitively. */
  q?: string | undefined;
  only?: 'failed' | 'ok' | undefined;
}

/** The keys of a ResultFilter: what a query's other parameters (limit, cursor, format…) are not. */
export const FILTER_KEYS = [
  'speaker_id',
  'subset',
  'chapter_id',
  'min_duration',
  'max_duration',
  'min_snr_db',
  'max_peak_dbfs',
  'clipped',
  'q',
  'only',
] as const satisfies readonly (keyof ResultFilter)[];

/** Where the last page ended: the sort value of its last row (null when it had none) and its path. */
export interface ResultCursor {
  value: number | string | null;
  path: string;
}

export interface ResultPageQuery {
  filter: ResultFilter;
  sort: ResultSort;
  after?: ResultCursor | undefined;
  limit: number;
}

/** The most words a search may hold: each is one more posting list to intersect. More is a 400 (http/schemas.ts). */
export const MAX_SEARCH_WORDS = 32;

/**
 * The words of a search: runs of letters, marks and digits, in NFC, as the indexes hold the
 * transcripts (SQLite's nfc() at indexing, PostgreSQL's generated column), so `é` finds `e` +
 * U+0301 and the reverse. Marks are part of words (both indexes keep `हिन्दी` whole). Letter case
 * is left to each index, which folds a query's words as it folded the transcripts (FTS5's
 * unicode61 tables, PostgreSQL's lower()): folded here by JavaScript, `İzmir` became `i̇zmir`,
 * which FTS5 never made of any transcript (stop 23).
 */
export const wordsOf = (q: string): string[] =>
  q
    .normalize('NFC')
    .split(/[^\p{L}\p{M}\p{N}]+/u)
    .filter(Boolean);

/** The words of a search (a longer one is refused before it gets here). */
export const searchWords = (q: string): string[] => wordsOf(q).slice(0, MAX_SEARCH_WORDS);

/**
 * A speaker id as it sorts: numeric ids in numeric order (zero-padded to 18 digits), then any
 * other id after them. The same expression in both stores (SQLite's printf, PostgreSQL's lpad).
 */
export function speakerKey(id: string): string {
  return /^\d{1,18}$/.test(id) ? id.replace(/^0+(?=\d)/, '').padStart(18, '0') : `~${id}`;
}

/** The SQL differences between the stores, for the builder. */
export interface Dialect {
  /** The n-th bound parameter (1-based): `?` or `$n`. */
  param(n: number): string;
  /** The column that holds a sort key's value. */
  column(key: SortKey): string;
  /**
   * A condition true for rows whose transcripts hold every word (the words bound as one
   * parameter). `probe`: a store that can check one row at a time does so (a page walking an
   * index in order), instead of listing every match first (a page of few matching rows).
   */
  search(param: string, probe: boolean): string;
  /** What to bind for the search condition (of the rows of `task`). */
  searchValue(words: string[], task: unknown): unknown;
}

/** A WHERE clause (without WHERE) and its parameters. */
export interface Condition {
  sql: string;
  params: unknown[];
}

/** The filter as SQL over one table of the task's rows (`taskColumn = task`). */
export function filterCondition(d: Dialect, taskColumn: string, task: unknown, f: ResultFilter, firstParam = 1, opts: { probe?: boolean } = {}): Condition {
  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return d.param(firstParam + params.length - 1);
  };
  const parts = [`${taskColumn} = ${p(task)}`];
  const anyOf = (col: string, values: string[] | undefined) => {
    if (values?.length) parts.push(`${col} IN (${values.map((v) => p(v)).join(', ')})`);
  };
  anyOf(d.column('speaker_id'), f.speaker_id?.map(speakerKey));
  anyOf('subset', f.subset);
  anyOf('chapter_id', f.chapter_id);
  if (f.min_duration !== undefined) parts.push(`duration_s >= ${p(f.min_duration)}`);
  if (f.max_duration !== undefined) parts.push(`duration_s <= ${p(f.max_duration)}`);
  if (f.min_snr_db !== undefined) parts.push(`snr_db >= ${p(f.min_snr_db)}`);
  if (f.max_peak_dbfs !== undefined) parts.push(`peak_dbfs <= ${p(f.max_peak_dbfs)}`);
  if (f.clipped === true) parts.push('clipped_samples > 0');
  if (f.clipped === false) parts.push('clipped_samples = 0');
  if (f.only === 'failed') parts.push('error_code IS NOT NULL');
  if (f.only === 'ok') parts.push('error_code IS NULL');
  const words = f.q === undefined ? [] : searchWords(f.q);
  if (f.q !== undefined) {
    // A search with no word in it matches nothing, rather than everything.
    parts.push(words.length ? d.search(p(d.searchValue(words, task)), opts.probe ?? false) : '1 = 0');
  }
  return { sql: parts.join(' AND '), params };
}

/**
 * The queries of one page: rows with a sort value, in order, then (nulls last) rows without,
 * by path. Two queries instead of one `NULLS LAST`, so that each walks its index in order in
 * both engines; the keyset condition (sort value, then path) makes every matching row come
 * exactly once over the pages.
 */
export function pageQueries(d: Dialect, select: string, from: string | PagePlan, cond: Condition, q: ResultPageQuery): { sql: string; params: unknown[]; nulls: boolean }[] {
  const plan: PagePlan = typeof from === 'string' ? { from: () => from, order: (e) => e } : from;
  const dir = q.sort.desc ? 'DESC' : 'ASC';
  const cmp = q.sort.desc ? '<' : '>';
  const n0 = cond.params.length;
  if (q.sort.key === 'path') {
    const params = [...cond.params];
    let where = cond.sql;
    if (q.after) {
      params.push(q.after.path);
      where += ` AND path ${cmp} ${d.param(n0 + 1)}`;
    }
    params.push(q.limit);
    return [{ sql: `SELECT ${select} FROM ${plan.from('path')} WHERE ${where} ORDER BY ${plan.order('path')} ${dir} LIMIT ${d.param(params.length)}`, params, nulls: false }];
  }
  const col = d.column(q.sort.key);
  const out: { sql: string; params: unknown[]; nulls: boolean }[] = [];
  if (!q.after || q.after.value !== null) {
    const params = [...cond.params];
    let where = `${cond.sql} AND ${col} IS NOT NULL`;
    if (q.after) {
      params.push(q.after.value, q.after.value, q.after.path);
      where += ` AND (${col} ${cmp} ${d.param(n0 + 1)} OR (${col} = ${d.param(n0 + 2)} AND path ${cmp} ${d.param(n0 + 3)}))`;
    }
    params.push(q.limit);
    out.push({
      sql: `SELECT ${select} FROM ${plan.from(q.sort.key)} WHERE ${where} ORDER BY ${plan.order(col)} ${dir}, ${plan.order('path')} ${dir} LIMIT ${d.param(params.length)}`,
      params,
      nulls: false,
    });
  }
  const params = [...cond.params];
  let where = `${cond.sql} AND ${col} IS NULL`;
  if (q.after && q.after.value === null) {
    params.push(q.after.path);
    where += ` AND path ${cmp} ${d.param(n0 + 1)}`;
  }
  params.push(q.limit);
  out.push({ sql: `SELECT ${select} FROM ${plan.from('path')} WHERE ${where} ORDER BY ${plan.order('path')} ${dir} LIMIT ${d.param(params.length)}`, params, nulls: true });
  return out;
}

/** How a store wants a page read: from which table (and index), and how to write an ORDER BY term. */
export interface PagePlan {
  /** The FROM clause for a query ordered by `key` (`path` for the null rows and path sorts). */
  from(key: SortKey): string;
  order(expr: string): string;
}
