import type Database from 'better-sqlite3';

/**
 * The SQL functions a connection that writes the catalog needs (the main one, whose migrations
 * and in-memory indexer do; the maintenance thread's): `nfc(text)`, a text in Unicode
 * normalization form C. Transcripts go into the full-text index in NFC, as searches come
 * (result-query.ts wordsOf): FTS5 keeps `e` + U+0301 as a token of its own, which the composed
 * `é` of a query never matched. About 1 µs a call, against the ~30 µs a row's indexing takes.
 */
export function addSqlFunctions(db: Database.Database): void {
  db.function('nfc', { deterministic: true }, (text: unknown) => (typeof text === 'string' ? text.normalize('NFC') : text));
}
