import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileResult } from '../../src/domain/file-result.ts';
import { makeLibriTTSTree, tempDir, type Tree } from '../helpers/libritts-tree.ts';
import { BASE, startTestService, type TestService } from '../helpers/service.ts';
import { toneWav } from '../helpers/wav.ts';

let svc: TestService;
let tree: Tree;
let outside: string;

beforeAll(async () => {
  tree = makeLibriTTSTree({ subsets: { 'dev-clean': 1 }, chaptersPerSpeaker: 1, corrupt: false });
  outside = tempDir('vl-outside-');
  fs.mkdirSync(path.join(outside, 'more'), { recursive: true });
  fs.writeFileSync(path.join(outside, 'more', 'outside.wav'), toneWav());
  fs.writeFileSync(path.join(outside, 'target.wav'), toneWav());
  const d = path.join(tree.root, 'dev-clean');
  fs.symlinkSync('/etc/passwd', path.join(d, 'x.wav')); // a file symlink out of the root
  fs.symlinkSync(path.join(outside, 'target.wav'), path.join(d, 'y.wav'));
  fs.symlinkSync(outside, path.join(d, 'escape')); // a directory symlink out of the root
  fs.symlinkSync(tree.root, path.join(d, 'loop')); // a loop
  fs.symlinkSync('../../dev-clean/100', path.join(d, '100', 'up')); // another loop, relative
  fs.symlinkSync(path.join(tree.root, tree.files[0]!.rel), path.join(d, 'inside-link.wav')); // stays inside: fine
  fs.symlinkSync(path.join(tree.root, 'nope.wav'), path.join(d, 'dangling.wav'));
  execFileSync('mkfifo', [path.join(d, 'fifo.wav')]); // would block a naive open() forever
  fs.mkdirSync(path.join(d, 'dir.wav')); // a directory named like a WAV
  svc = await startTestService({ SCAN_ROOTS: [tree.root] });
});
afterAll(async () => {
  await svc.close();
  tree.cleanup();
});

describe('path safety during a scan', () => {
  it('reads nothing outside the root, does not hang on loops or FIFOs, and says why per file', async () => {
    const id = await svc.startScan({ libritts_path: tree.root, analysis: 'full' });
    const done = await svc.waitDone(id);
    expect(done.status).toBe('completed');
    const { items } = (await (await svc.request(`${BASE}/scan-results/${id}?limit=1000`)).json()) as { items: FileResult[] };
    const by = new Map(items.map((r) => [r.path, r]));
    expect(by.get('dev-clean/x.wav')).toMatchObject({ error: { code: 'OUTSIDE_ROOT' }, bytes: null, sample_rate: null });
    expect(by.get('dev-clean/y.wav')).toMatchObject({ error: { code: 'OUTSIDE_ROOT' }, bytes: null, sample_rate: null });
    expect(by.get('dev-clean/inside-link.wav')).toMatchObject({ error: null, sample_rate: 24000 });
    expect(by.get('dev-clean/dangling.wav')!.error!.code).toBe('READ_ERROR');
    // Only regular files and symlinks are listed: a FIFO or a directory named *.wav is never opened.
    expect(by.has('dev-clean/fifo.wav')).toBe(false);
    expect(by.has('dev-clean/dir.wav')).toBe(false);
    // Nothing under the directory symlinks was listed: no escape, no endless loop.
    expect(items.filter((r) => /\/(escape|loop|up)\//.test(r.path))).toEqual([]);
    expect(items.some((r) => r.path.includes('outside.wav'))).toBe(false);
    // No file's error mentions what /etc/passwd holds.
    expect(JSON.stringify(items)).not.toContain('root:');
  });

  it('checks SCAN_ROOTS on the real path at request time', async () => {
    const viaLink = await svc.post(`${BASE}/scan-libritts`, { libritts_path: path.join(tree.root, 'dev-clean', 'escape') });
    expect(viaLink.status).toBe(403);
    expect(await viaLink.json()).toMatchObject({ code: 'PATH_NOT_ALLOWED' });
    const dotdot = await svc.post(`${BASE}/scan-libritts`, { libritts_path: `${tree.root}/dev-clean/../../` });
    expect(dotdot.status).toBe(403);
    const prefix = await svc.post(`${BASE}/scan-libritts`, { libritts_path: `${tree.root}-sibling` });
    expect(prefix.status).toBe(403); // a sibling whose name starts with the root's is still outside
    const long = await svc.post(`${BASE}/scan-libritts`, { libritts_path: `/${'a'.repeat(5000)}` });
    expect(long.status).toBe(400);
    expect(await long.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
