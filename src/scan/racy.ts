/**
 * A file whose modification time is this close to the time it is read (or in the future) may be
 * written again within the same timestamp tick (ext4 ticks every 1–10 ms, FAT keeps 2 s): a rescan
 * could not tell the two versions apart. Its fingerprint is not recorded, so its row is never
 * reused: git's "racily clean" entries, handled the same way.
 */
export const RACY_NS = 2_000_000_000n;

export const isRacy = (mtimeNs: bigint): boolean => BigInt(Date.now()) * 1_000_000n - mtimeNs < RACY_NS;
