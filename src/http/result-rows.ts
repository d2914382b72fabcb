import type { FileResult } from '../domain/file-result.ts';
import type { ResultCursor, ResultFilter, ResultSort } from '../store/result-query.ts';
import type { ResultStore } from '../store/types.ts';

/** Rows per store query while streaming: one page in memory at a time. */
const PAGE = 1000;

/**
 * Every row matching a filter, in a sort order, page by page (the store's keyset cursor), so an
 * export of any size holds one page in memory and waits on its reader between pages.
 */
export async function* allRows(store: ResultStore, taskId: string, filter: ResultFilter, sort: ResultSort): AsyncGenerator<FileResult> {
  for (let after: ResultCursor | undefined; ;) {
    const page = await store.page(taskId, { filter, sort, after, limit: PAGE });
    yield* page.rows;
    if (!page.next) return;
    after = page.next;
  }
}
