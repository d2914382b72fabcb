import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { FileError } from '../domain/file-result.ts';
import { codeError, ioError, NOT_REGULAR, OUTSIDE } from './safe-open.ts';

/**
 * The directory-relative file access of `native/scan-io.c` (built by `npm install`, or
 * `npm run build:native`): opens relative to a directory descriptor that was checked once, so
 * no per-file containment check is needed, and reads a batch of headers in one call. Where the
 * addon is not built, or `/proc/self/fd` is missing (not Linux), `nativeIo` is null and every
 * caller takes the portable path of safe-open.ts, which gives the same rows.
 */
export interface NativeIo {
  readHeaders(dirfd: number, names: Buffer, count: number, window: number, out: Buffer): number;
  openAt(dirfd: number, name: Buffer, stat: Float64Array): number;
  statAt(dirfd: number, name: Buffer, stat: Float64Array): number;
  listDir(dirfd: number, out: Buffer): number;
  closeFd(fd: number): number;
  /** Puts the calling thread under SCHED_IDLE: 0, or -errno (absent from builds of older sources). */
  idleThread?(): number;
}

/** Where the addon's file is looked for, from this module's folder (sources and worker bundles alike). */
const ADDON_PATH = new URL('../../native/build/Release/scan_io.node', import.meta.url);

function load(): { io: NativeIo | null; why: string } {
  if (process.env['VOICE_LIBRARY_NATIVE_IO'] === 'off') return { io: null, why: 'turned off by VOICE_LIBRARY_NATIVE_IO=off' };
  try {
    fs.readlinkSync('/proc/self/fd/0');
  } catch {
    return { io: null, why: 'no /proc/self/fd on this system' };
  }
  try {
    const io = createRequire(import.meta.url)(fileURLToPath(ADDON_PATH)) as NativeIo;
    // A build from older sources lacks newer calls: take the portable path rather than fail mid-scan.
    const missing = (['readHeaders', 'openAt', 'statAt', 'listDir', 'closeFd'] as const).filter((f) => typeof io[f] !== 'function');
    if (missing.length) return { io: null, why: `native/build/Release/scan_io.node lacks ${missing.join(', ')}; run npm run build:native` };
    return { io, why: '' };
  } catch (err) {
    return { io: null, why: `native/build/Release/scan_io.node did not load (${(err as Error).message.split('\n')[0]}); run npm run build:native` };
  }
}

const loaded = load();
export const nativeIo: NativeIo | null = loaded.io;
/** Why `nativeIo` is null ('' when it is not). */
export const nativeIoMissing = loaded.why;

/** Per header record: status, bytes read, size, mtime seconds, mtime nanoseconds (scan-io.c). */
export const RECORD_HEAD = 32;
/** openAt's answer for a name that is not a regular file (scan-io.c NOT_REGULAR). */
const NOT_REGULAR_ERRNO = 100000;

const errnoNames = new Map<number, string>(Object.entries(os.constants.errno).map(([name, n]) => [n, name]));
/** A failed open as the portable path words it (safe-open.ts), from an errno. */
/** An errno's name (`EACCES`), as Node's errors give it; `EIO` for one it does not know. */
export const errnoName = (errno: number): string => errnoNames.get(errno) ?? 'EIO';

function errnoError(errno: number): FileError {
  return errno === NOT_REGULAR_ERRNO ? NOT_REGULAR : codeError(errnoName(errno));
}

const DIR_FLAGS = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;

/**
 * A directory under a scan root, held open: files are opened relative to it. It is checked once,
 * on open: `O_NOFOLLOW` refuses a last component that is a symlink, and the kernel's own path for
 * the descriptor must be exactly the path asked for, so no component on the way was a symlink
 * either (the root is a real path). Whatever happens to those paths later, the descriptor stays
 * on this directory. Call `close()`.
 */
export class PinnedDir {
  private constructor(
    readonly fd: number,
    /** The directory's absolute path, bytes. */
    readonly path: Buffer,
  ) {}

  /** Opens `dir` (absolute bytes or text) when it is exactly where it claims; else the reason. */
  static open(dir: string | Buffer): PinnedDir | FileError {
    const want = typeof dir === 'string' ? Buffer.from(dir, 'utf8') : dir;
    let fd: number;
    try {
      fd = fs.openSync(want, DIR_FLAGS);
    } catch (err) {
      return ioError(err);
    }
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`, { encoding: 'buffer' }).equals(want)) return new PinnedDir(fd, want);
    } catch {
      // fall through: cannot tell where it is
    }
    fs.closeSync(fd);
    return OUTSIDE;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

const statOut = new Float64Array(3);

/** An open regular file: its descriptor, size and modification time in nanoseconds; `close` closes it. */
export interface OpenedAt {
  fd: number;
  size: number;
  mtimeNs: bigint;
  close: (fd: number) => void;
}

/** Opens the regular file `name` (bytes, no `/`) in `dir`, never following a symlink. */
export function openAt(io: NativeIo, dir: PinnedDir, name: Buffer): OpenedAt | FileError {
  const fd = io.openAt(dir.fd, Buffer.concat([name, ZERO]), statOut);
  if (fd < 0) return errnoError(-fd);
  return { fd, size: statOut[0]!, mtimeNs: BigInt(statOut[1]!) * 1_000_000_000n + BigInt(statOut[2]!), close: (d) => void io.closeFd(d) };
}

const ZERO = Buffer.alloc(1);

/** What a name in a folder is, from one stat that never follows a link: a regular file's size and time, or neither. */
export type Probed = { size: number; mtime_ns: string } | 'absent' | 'other';

const ENOENT = os.constants.errno.ENOENT;
const ENOTDIR = os.constants.errno.ENOTDIR;

/**
 * The size and modification time (nanoseconds, as decimal text) of the regular file `name`
 * (bytes, no `/`) in `dir`, never following a symlink; 'absent' when there is no such name, and
 * 'other' for anything else (a link, a folder, a FIFO, a name that would leave the folder, an
 * error).
 */
export function probeAt(io: NativeIo, dir: PinnedDir, name: Buffer): Probed {
  const r = io.statAt(dir.fd, Buffer.concat([name, ZERO]), statOut);
  if (r === 0) return { size: statOut[0]!, mtime_ns: String(BigInt(statOut[1]!) * 1_000_000_000n + BigInt(statOut[2]!)) };
  return r === -ENOENT || r === -ENOTDIR ? 'absent' : 'other';
}
