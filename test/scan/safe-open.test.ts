import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isOpened, openUnder, readSmallFileUnder, verifyRoot, type OpenOutcome } from '../../src/scan/safe-open.ts';
import { tempDir } from '../helpers/libritts-tree.ts';

function outcome(o: OpenOutcome): string {
  if (!isOpened(o)) return o.code === 'OUTSIDE_ROOT' ? 'OUTSIDE_ROOT' : o.detail;
  fs.closeSync(o.fd);
  return 'opened';
}

/** A root with one regular file, and a secret outside it. */
function setup() {
  const root = tempDir('vl-root-');
  const outside = tempDir('vl-out-');
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'root:x:0:0');
  fs.mkdirSync(path.join(outside, 'deep'));
  fs.writeFileSync(path.join(outside, 'deep', 'x.wav'), 'RIFF');
  fs.mkdirSync(path.join(root, 'd'));
  fs.writeFileSync(path.join(root, 'd', 'ok.wav'), 'RIFF');
  return { root, outside };
}

describe('openUnder: one set of rules for every file a scan opens', () => {
  it('opens a regular file under the root', () => {
    const { root } = setup();
    expect(outcome(openUnder(root, path.join(root, 'd', 'ok.wav')))).toBe('opened');
  });

  it('does not follow a symlink in the last position, unless asked and it stays inside', () => {
    const { root, outside } = setup();
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'd', 'out.wav'));
    fs.symlinkSync(path.join(root, 'd', 'ok.wav'), path.join(root, 'd', 'in.wav'));
    expect(outcome(openUnder(root, path.join(root, 'd', 'out.wav')))).toBe('cannot read file (ELOOP)');
    expect(outcome(openUnder(root, path.join(root, 'd', 'in.wav')))).toBe('cannot read file (ELOOP)');
    expect(outcome(openUnder(root, path.join(root, 'd', 'out.wav'), true))).toBe('OUTSIDE_ROOT');
    expect(outcome(openUnder(root, path.join(root, 'd', 'in.wav'), true))).toBe('opened');
  });

  it('refuses a file reached through a directory symlink in any earlier position (checked on the descriptor)', () => {
    const { root, outside } = setup();
    fs.symlinkSync(outside, path.join(root, 'link'));
    fs.symlinkSync(path.join(outside, 'deep'), path.join(root, 'd', 'sub'));
    expect(outcome(openUnder(root, path.join(root, 'link', 'secret.txt')))).toBe('OUTSIDE_ROOT');
    expect(outcome(openUnder(root, path.join(root, 'd', 'sub', 'x.wav')))).toBe('OUTSIDE_ROOT');
    expect(outcome(openUnder(root, path.join(root, 'link', 'deep', '..', 'secret.txt')))).toBe('OUTSIDE_ROOT');
    // A directory swapped for a symlink after the walk listed it: the same check catches it.
    fs.renameSync(path.join(root, 'd'), path.join(root, 'd.old'));
    fs.symlinkSync(path.join(outside, 'deep'), path.join(root, 'd'));
    expect(outcome(openUnder(root, path.join(root, 'd', 'x.wav')))).toBe('OUTSIDE_ROOT');
  });

  it('never waits on a FIFO, and refuses anything that is not a regular file', () => {
    const { root } = setup();
    execFileSync('mkfifo', [path.join(root, 'd', 'fifo.wav')]);
    fs.mkdirSync(path.join(root, 'd', 'dir.wav'));
    execFileSync('mknod', [path.join(root, 'd', 'null.wav'), 'c', '1', '3']);
    fs.symlinkSync('/dev/zero', path.join(root, 'd', 'zero.wav'));
    const started = performance.now();
    expect(outcome(openUnder(root, path.join(root, 'd', 'fifo.wav')))).toBe('not a regular file');
    expect(outcome(openUnder(root, path.join(root, 'd', 'dir.wav')))).toBe('not a regular file');
    expect(outcome(openUnder(root, path.join(root, 'd', 'null.wav')))).toBe('not a regular file');
    expect(outcome(openUnder(root, path.join(root, 'd', 'zero.wav'), true))).toBe('OUTSIDE_ROOT');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('reads small sidecars whole and leaves out any over the cap, huge sparse ones included, without reading them', () => {
    const { root, outside } = setup();
    fs.writeFileSync(path.join(root, 'd', 'small.txt'), 'hello');
    const huge = path.join(root, 'd', 'huge.txt');
    fs.writeFileSync(huge, '');
    fs.truncateSync(huge, 4 * 1024 ** 3); // 4 GB, sparse
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'd', 'secret.txt'));
    execFileSync('mkfifo', [path.join(root, 'd', 'fifo.txt')]);
    expect(readSmallFileUnder(root, path.join(root, 'd', 'small.txt'), 5)).toBe('hello');
    expect(readSmallFileUnder(root, path.join(root, 'd', 'small.txt'), 4)).toBeNull();
    const rss = process.memoryUsage().rss;
    const started = performance.now();
    expect(readSmallFileUnder(root, huge, 64 * 1024)).toBeNull();
    expect(performance.now() - started).toBeLessThan(100);
    expect(process.memoryUsage().rss - rss).toBeLessThan(16 * 1024 * 1024);
    expect(readSmallFileUnder(root, path.join(root, 'd', 'secret.txt'), 1024)).toBeNull();
    expect(readSmallFileUnder(root, path.join(root, 'd', 'fifo.txt'), 1024)).toBeNull();
  });
});

describe('verifyRoot: the check made whenever work on a task starts', () => {
  it('accepts the resolved root inside the allowed roots', () => {
    const { root } = setup();
    expect(verifyRoot(root, [])).toEqual({ ok: true });
    expect(verifyRoot(path.join(root, 'd'), [root])).toEqual({ ok: true });
  });

  it('refuses a root that has become a symlink, lies outside the roots, vanished or is a file', () => {
    const { root, outside } = setup();
    const swap = path.join(root, 'swap');
    fs.mkdirSync(swap);
    expect(verifyRoot(swap, [root]).ok).toBe(true);
    fs.rmdirSync(swap);
    fs.symlinkSync(outside, swap);
    expect(verifyRoot(swap, [root])).toMatchObject({ ok: false, code: 'PATH_NOT_ALLOWED' });
    expect(verifyRoot(swap, [])).toMatchObject({ ok: false, code: 'PATH_NOT_ALLOWED' });
    expect(verifyRoot(outside, [root])).toMatchObject({ ok: false, code: 'PATH_NOT_ALLOWED' });
    expect(verifyRoot(`${root}-sibling`, [root])).toMatchObject({ ok: false, code: 'PATH_NOT_FOUND' });
    expect(verifyRoot(path.join(root, 'd', 'ok.wav'), [root])).toMatchObject({ ok: false, code: 'NOT_A_DIRECTORY' });
  });
});
