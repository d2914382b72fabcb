import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors.ts';
import { insideRoots } from '../scan/safe-open.ts';

/** Resolves configured roots once, at start-up: symlinked roots compare by their real path. */
export function resolveRoots(roots: string[]): string[] {
  return roots.map((r) => {
    try {
      return fs.realpathSync(r);
    } catch {
      return path.resolve(r);
    }
  });
}

/**
 * Checks a requested scan directory: it must exist, be a directory and (with SCAN_ROOTS) lie
 * inside a root once symlinks are resolved. A path outside the roots is refused before saying
 * whether it exists. Returns the real path, which is what the task stores and scans. Async
 * calls only: this runs in a request handler.
 */
export async function checkScanPath(requested: string, roots: string[]): Promise<string> {
  let real: string;
  try {
    // The raw path, resolved the way the kernel does: `/r/link/..` is the parent of where the
    // link leads, not `/r`. A lexical normalisation first would check one place and scan another.
    const bytes = await fs.promises.realpath(requested, { encoding: 'buffer' });
    real = bytes.toString('utf8');
    // A real path that is not UTF-8 cannot be named in JSON; say so instead of scanning a lookalike.
    if (!Buffer.from(real, 'utf8').equals(bytes)) {
      throw new AppError(400, 'VALIDATION_FAILED', 'libritts_path resolves to a path whose bytes are not UTF-8', [
        { path: 'libritts_path', message: 'its real path is not valid UTF-8' },
      ]);
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    // Refused before saying whether it exists; the lexical form is all there is to judge by.
    if (!insideRoots(roots, path.resolve(requested))) throw notAllowed(requested);
    throw new AppError(400, 'PATH_NOT_FOUND', `Path not found: ${requested}`);
  }
  if (!insideRoots(roots, real)) throw notAllowed(requested);
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(real);
  } catch {
    throw new AppError(400, 'PATH_NOT_FOUND', `Path not found: ${requested}`);
  }
  if (!stat.isDirectory()) throw new AppError(400, 'NOT_A_DIRECTORY', `Not a directory: ${requested}`);
  return real;
}

const notAllowed = (p: string): AppError => new AppError(403, 'PATH_NOT_ALLOWED', `Path is outside the allowed scan roots: ${p}`);
