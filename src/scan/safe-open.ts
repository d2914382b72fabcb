import fs from 'node:fs';
import type { FileError } from '../domain/file-result.ts';
import { isRacy } from './racy.ts';

/**
 * The one way scan code opens a file under a scan root, WAVs and sidecars alike:
 * - `O_NOFOLLOW`: a last component that is (or became) a symlink is not followed;
 * - `O_NONBLOCK`: opening a FIFO returns at once instead of waiting for a writer, and then
 * - `fstat` on the descriptor: anything but a regular file is refused before a byte is read;
 * - containment on the descriptor: the kernel's own path for the open file (`/proc/self/fd/N`)
 *   must lie under the root. This catches what a path check made earlier cannot: a directory
 *   anywhere along the path swapped for a symlink between the walk and the open.
 * Sync on purpose: it runs in scan worker threads.
 */

const FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK | (fs.constants.O_NOCTTY ?? 0);
const HAVE_PROC_FD = (() => {
  try {
    fs.readlinkSync('/proc/self/fd/0');
    return true;
  } catch {
    return false;
  }
})();

export interface OpenedFile {
  fd: number;
  /** From fstat on the descriptor: what was opened, not what the name pointed at before. */
  size: number;
  /** Modification time in nanoseconds, as the filesystem keeps it (incremental rescans compare it). */
  mtimeNs: bigint;
  /** How to close `fd` when not fs.closeSync (a descriptor the native addon opened: native-io.ts). */
  close?: (fd: number) => void;
}

export type OpenOutcome = OpenedFile | FileError;

const rootPrefix = new Map<string, Buffer>();
function prefixOf(root: string): Buffer {
  let p = rootPrefix.get(root);
  if (!p) {
    if (rootPrefix.size > 64) rootPrefix.clear();
    rootPrefix.set(root, (p = Buffer.from(root.endsWith('/') ? root : `${root}/`, 'utf8')));
  }
  return p;
}

/** Whether `target` (bytes or text) lies strictly under `root`. */
export function isUnder(root: string, target: string | Buffer): boolean {
  const prefix = prefixOf(root);
  const t = typeof target === 'string' ? Buffer.from(target, 'utf8') : target;
  return t.length > prefix.length && t.subarray(0, prefix.length).equals(prefix);
}

/** Whether `p` is one of `roots` or lies under one; with no roots configured, anything is. */
export function insideRoots(roots: readonly string[], p: string): boolean {
  return roots.length === 0 || roots.some((r) => r === p || isUnder(r, p));
}

/** A failed open or read, worded by its error code (`cannot read file (ENOENT)`); the native reader words its own the same way. */
export function ioError(err: unknown): FileError {
  return codeError((err as NodeJS.ErrnoException)?.code ?? 'EIO');
}

export const codeError = (code: string): FileError => ({ code: 'READ_ERROR', detail: `cannot read file (${code})` });
/** The error code a codeError carries (`ENOENT`…), or null for any other FileError. */
export const codeOf = (e: FileError): string | null => /^cannot read file \((\w+)\)$/.exec(e.detail)?.[1] ?? null;
export const NOT_REGULAR: FileError = { code: 'READ_ERROR', detail: 'not a regular file' };
export const OUTSIDE: FileError = { code: 'OUTSIDE_ROOT', detail: 'file lies outside the scanned directory; not read' };

/** Where an open descriptor really is, or null where the platform cannot say. */
function descriptorPath(fd: number, fallback: string | Buffer): Buffer | null {
  try {
    if (HAVE_PROC_FD) return fs.readlinkSync(`/proc/self/fd/${fd}`, { encoding: 'buffer' });
    return fs.realpathSync.native(fallback, { encoding: 'buffer' });
  } catch {
    return null;
  }
}

/**
 * Opens `file` (absolute, under `root`) for reading under the rules above. `followLink` lets a
 * symlinked file be read when its real target is under the root (the target is then opened with
 * `O_NOFOLLOW` and checked again on the descriptor). Never throws: failures come back as a
 * FileError. The caller closes `fd`.
 */
export function openUnder(root: string, file: string | Buffer, followLink = false): OpenOutcome {
  let target: string | Buffer = file;
  if (followLink) {
    try {
      target = fs.realpathSync.native(file, { encoding: 'buffer' });
    } catch (err) {
      return ioError(err);
    }
    if (!isUnder(root, target)) return OUTSIDE;
  }
  let fd: number;
  try {
    fd = fs.openSync(target, FLAGS);
  } catch (err) {
    return ioError(err);
  }
  let keep = false;
  try {
    const stat = fs.fstatSync(fd, { bigint: true });
    if (!stat.isFile()) return NOT_REGULAR;
    const real = descriptorPath(fd, target);
    if (!real) return { code: 'READ_ERROR', detail: 'cannot tell where the file lies' };
    if (!isUnder(root, real)) return OUTSIDE;
    keep = true;
    return { fd, size: Number(stat.size), mtimeNs: stat.mtimeNs };
  } catch (err) {
    return ioError(err);
  } finally {
    if (!keep) fs.closeSync(fd);
  }
}

export const isOpened = (o: OpenOutcome): o is OpenedFile => 'fd' in o;

/** A sidecar as read, with its fingerprint: "size:mtime_ns", "-" when absent, null when it cannot be trusted (unreadable, or modified too recently: racy.ts). */
export interface SidecarRead {
  text: string | null;
  sig: string | null;
}

/** An open that failed because nothing is there (as opposed to a file that cannot be read). */
const isMissing = (e: FileError): boolean => codeOf(e) === 'ENOENT' || codeOf(e) === 'ENOTDIR';

/**
 * Reads a whole small sidecar file (transcript, chapter table, speaker table) under the same
 * rules, at most `maxBytes`; a larger file is not read at all (null), like a missing one. The
 * fingerprint lets a rescan tell that the file, or its absence, is unchanged.
 */
export function readSidecarUnder(root: string, file: string | Buffer, maxBytes: number): SidecarRead {
  const opened = openUnder(root, file);
  if (!isOpened(opened)) return { text: null, sig: isMissing(opened) ? '-' : null };
  const { fd, size } = opened;
  const sig = isRacy(opened.mtimeNs) ? null : `${size}:${opened.mtimeNs}`;
  try {
    if (size > maxBytes) return { text: null, sig };
    // Read to EOF but never past the cap: the size may have changed since fstat.
    const buf = Buffer.allocUnsafe(Math.min(maxBytes, size) + 1);
    let got = 0;
    while (got < buf.length) {
      const n = fs.readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    // A size that moved while it was read: the text is kept, the fingerprint is not trusted.
    if (got !== size) return { text: got > maxBytes ? null : buf.toString('utf8', 0, got), sig: null };
    return { text: buf.toString('utf8', 0, got), sig };
  } catch {
    return { text: null, sig: null };
  } finally {
    fs.closeSync(fd);
  }
}

/** readSidecarUnder's text alone. */
export const readSmallFileUnder = (root: string, file: string | Buffer, maxBytes: number): string | null => readSidecarUnder(root, file, maxBytes).text;

/**
 * Checks, when work on a task starts or resumes, that its resolved root still is what it was
 * when the request was accepted: a real directory (no component has become a symlink) inside
 * one of the allowed roots. Sync; the caller runs it off the main thread or accepts one stat.
 */
export function verifyRoot(
  root: string,
  allowed: readonly string[],
): { ok: true } | { ok: false; code: 'PATH_NOT_FOUND' | 'NOT_A_DIRECTORY' | 'PATH_NOT_ALLOWED'; detail: string } {
  let real: string;
  try {
    real = fs.realpathSync.native(root);
  } catch {
    return { ok: false, code: 'PATH_NOT_FOUND', detail: `Path not found: ${root}` };
  }
  if (real !== root) return { ok: false, code: 'PATH_NOT_ALLOWED', detail: `The scanned directory has changed since the scan was requested (${root} now leads to another place)` };
  if (!insideRoots(allowed, root)) {
    return { ok: false, code: 'PATH_NOT_ALLOWED', detail: `Path is outside the allowed scan roots: ${root}` };
  }
  try {
    if (!fs.statSync(root).isDirectory()) return { ok: false, code: 'NOT_A_DIRECTORY', detail: `Not a directory: ${root}` };
  } catch {
    return { ok: false, code: 'PATH_NOT_FOUND', detail: `Path not found: ${root}` };
  }
  return { ok: true };
}

/**
 * The same rules as openUnder, without blocking the event loop: for the routes that serve a
 * scanned file (the audio route). A file that is a symlink is followed only when its real
 * target is under the root, as the scan does. The caller closes the handle.
 */
export async function openUnderAsync(root: string, file: string | Buffer): Promise<{ handle: fs.promises.FileHandle; stat: fs.Stats } | FileError> {
  let target: string | Buffer = file;
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(target, FLAGS);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOOP') return ioError(err);
    try {
      target = await fs.promises.realpath(file, { encoding: 'buffer' });
    } catch (e) {
      return ioError(e);
    }
    if (!isUnder(root, target)) return OUTSIDE;
    try {
      handle = await fs.promises.open(target, FLAGS);
    } catch (e) {
      return ioError(e);
    }
  }
  let keep = false;
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return NOT_REGULAR;
    const real = HAVE_PROC_FD ? await fs.promises.readlink(`/proc/self/fd/${handle.fd}`, { encoding: 'buffer' }) : await fs.promises.realpath(target, { encoding: 'buffer' });
    if (!isUnder(root, real)) return OUTSIDE;
    keep = true;
    return { handle, stat };
  } catch (err) {
    return ioError(err);
  } finally {
    if (!keep) await handle.close().catch(() => {});
  }
}
