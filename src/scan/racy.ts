/**
 * A file whose modification time is this close to the time it is read (or in the future) may be
 * written again within the same timestamp tick (ext4 ticks every 1–10 ms, FAT keeps 2 s): a rescan
 * could not tell the two versions apart. Its fingerprint is not recorded, so its row is never
 * reused: git's "racily clean" entries, handled the same way.
 */
export const RACY_NS = 2_000_000_000n;

export const isRacy = (mtimeNs: bigint): boolean => BigInt(Date.now()) * 1_000_000n - mtimeNs < RACY_NS;

/**
 * The `mtime_ns` a row records for a file modified at `sec` seconds and `nsec` nanoseconds:
 * String(ns), or null when it is racy. Without BigInts in the common case, a file last modified
 * well before now (they cost ~0.4 µs of a header scan's row).
 */
export function mtimeText(sec: number, nsec: number): string | null {
  if (sec > 0 && sec < Date.now() / 1000 - 10 && Number.isInteger(sec) && Number.isInteger(nsec) && nsec >= 0 && nsec < 1e9) return `${sec}${String(nsec).padStart(9, '0')}`;
  const ns = BigInt(sec) * 1_000_000_000n + BigInt(nsec);
  return isRacy(ns) ? null : String(ns);
}
