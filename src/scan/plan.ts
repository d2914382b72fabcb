import { createHash } from 'node:crypto';
import type { PartSpec } from '../domain/scan-part.ts';
import { listFolders } from './walk.ts';

export type { PartSpec } from '../domain/scan-part.ts';

/** Shards the loose files (those above the speaker folders) are split into. */
export const LOOSE_SHARDS = 8;

/** The single-process plan: the whole tree (or the requested subsets) as one part. */
export function wholeTreePlan(subsets: readonly string[] | null): PartSpec[] {
  return [{ key: 'all', scope: { dirs: subsets?.length ? subsets : [''], recursive: true } }];
}

/**
 * The cluster plan: one part per folder at the speaker level (`<subset>/<speaker>` from the root,
 * `<speaker>` within requested subsets), plus the files lying above that level, split in
 * LOOSE_SHARDS shards by a hash of their names. Every file of the tree is in exactly one part,
 * and the same tree always gives the same parts. Sync: it runs in a scan worker.
 */
export function folderPlan(root: string, subsets: readonly string[] | null): PartSpec[] {
  const starts = subsets?.length ? [...new Set(subsets)] : [''];
  const depth = subsets?.length ? 1 : 2;
  const folders = listFolders(root, starts, depth);
  const above = depth === 2 ? [...starts, ...listFolders(root, starts, 1)] : starts;
  const parts: PartSpec[] = folders.map((f) => ({ key: f, scope: { dirs: [f], recursive: true } }));
  // A shard's key starts with `/`, which no folder's relative path does: named `loose/<i>`, they
  // were the keys of the parts of a subset `loose` with speakers 0–7, and one of each pair was
  // never registered (its files missing from a completed scan).
  for (let i = 0; i < LOOSE_SHARDS; i++) parts.push({ key: `/loose/${i}`, scope: { dirs: above, recursive: false, shard: { index: i, count: LOOSE_SHARDS } } });
  if (new Set(parts.map((p) => p.key)).size !== parts.length) throw new Error('a scan plan named two parts alike');
  return parts;
}

/** A short id for a part, safe in queue job ids (no `:`), unique within its task. */
export const partId = (key: string): string => createHash('sha1').update(key).digest('hex').slice(0, 16);
