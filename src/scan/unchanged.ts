import type { FileFingerprint } from '../domain/file-result.ts';
import type { RecordedPrint } from '../store/types.ts';

/**
 * Whether a file is as the reference scan recorded it: the same size and modification time, and
 * every transcript file that decided its row the same (or still absent). Then a scan of it now
 * would give the very same row.
 */
export function unchanged(fp: FileFingerprint, rec: RecordedPrint | undefined): boolean {
  if (!rec || rec.bytes !== fp.size || rec.mtime_ns !== fp.mtime_ns) return false;
  let consulted: unknown;
  try {
    consulted = JSON.parse(rec.sidecars);
  } catch {
    return false;
  }
  if (!consulted || typeof consulted !== 'object') return false;
  for (const [name, sig] of Object.entries(consulted)) if (fp.sidecars[name] !== sig) return false;
  return true;
}
