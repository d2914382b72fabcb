import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import type { FileResult } from '../../src/domain/file-result.ts';
import type { TaskSnapshot } from '../../src/domain/task.ts';
import { startChildServer } from '../helpers/child-server.ts';
import { makeLibriTTSTree, tempDir } from '../helpers/libritts-tree.ts';
import { BASE, startTestService, type TestService } from '../helpers/service.ts';
import { toneWav } from '../helpers/wav.ts';

/**
 * SCAN_ROOTS confinement, tried the ways a hostile client with write access to a root would:
 * `..` after a symlink, a subset that is a symlink, a swap between the request and the work,
 * and a swap across a restart. Whatever happens, nothing outside the root is read.
 */

const SECRET = 'TOPSECRET-d41d8cd98f00';

/** A directory outside every root, holding a LibriTTS-like tree and secrets. */
function outsideTree() {
  const tree = makeLibriTTSTree({ subsets: { 'dev-clean': 1 }, chaptersPerSpeaker: 1, utterancesPerChapter: 2, corrupt: false });
  fs.writeFileSync(path.join(tree.root, 'secret.txt'), SECRET);
  return tree;
}

async function results(svc: TestService, id: string): Promise<FileResult[]> {
  const res = await svc.request(`${BASE}/scan-results/${id}?format=jsonl`);
  return (await res.text())
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as FileResult);
}

const services: TestService[] = [];
async function service(overrides: Parameters<typeof startTestService>[0], options?: Parameters<typeof startTestService>[1]) {
  const svc = await startTestService(overrides, options);
  services.push(svc);
  return svc;
}
afterAll(async () => {
  for (const s of services) await s.close();
});

describe('SCAN_ROOTS cannot be escaped', () => {
  it('`<root>/link/..` is resolved as the kernel does: a link to /out/deep/dir makes it /out/deep, refused', async () => {
    const root = tempDir('vl-r-');
    const out = outsideTree();
    onTestFinished(out.cleanup);
    fs.symlinkSync(path.join(out.root, 'dev-clean', '100'), path.join(root, 'link'));
    const svc = await service({ SCAN_ROOTS: [root] });
    const res = await svc.post(`${BASE}/scan-libritts`, { libritts_path: `${root}/link/..` });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 'PATH_NOT_ALLOWED' });
    expect((await svc.post(`${BASE}/scan-libritts`, { libritts_path: `${root}/link/../..` })).status).toBe(403);
    expect((await svc.post(`${BASE}/scan-libritts`, { libritts_path: `${root}/link` })).status).toBe(403);
  });

  it('through a symlink in a root, any path outside is refused alike, existing or not: no probing of what exists elsewhere', async () => {
    const root = tempDir('vl-r-');
    const out = outsideTree();
    onTestFinished(out.cleanup);
    fs.symlinkSync('/', path.join(root, 'rootlink'));
    fs.symlinkSync(out.root, path.join(root, 'outlink'));
    const svc = await service({ SCAN_ROOTS: [root] });
    const answer = async (p: string) => {
      const res = await svc.post(`${BASE}/scan-libritts`, { libritts_path: p });
      return `${res.status} ${((await res.json()) as { code: string }).code}`;
    };
    for (const p of [
      `${root}/rootlink/etc`, // exists
      `${root}/rootlink/etc/passwd`, // exists, a file
      `${root}/rootlink/etc/no-such-file`,
      `${root}/rootlink/no-such-dir/deeper`,
      `${root}/outlink/secret.txt`,
      `${root}/outlink/no-such.txt`,
    ]) {
      expect(await answer(p), p).toBe('403 PATH_NOT_ALLOWED');
    }
    // Inside the root, a missing path is still just missing.
    expect(await answer(`${root}/no-such-dir`)).toBe('400 PATH_NOT_FOUND');
    expect(await answer(`${root}/no-such-dir/../also-missing`)).toBe('400 PATH_NOT_FOUND');
  });

  it('a subset that is a symlink out of the root is not scanned', async () => {
    const root = tempDir('vl-r-');
    const out = outsideTree();
    onTestFinished(out.cleanup);
    const ds = path.join(root, 'ds');
    fs.mkdirSync(path.join(ds, 'dev-clean', '7', '8'), { recursive: true });
    fs.writeFileSync(path.join(ds, 'dev-clean', '7', '8', '7_8_000000_000000.wav'), toneWav());
    fs.symlinkSync(path.join(out.root, 'dev-clean'), path.join(ds, 'evil'));
    const svc = await service({ SCAN_ROOTS: [root] });
    const id = await svc.startScan({ libritts_path: ds, subsets: ['evil', 'dev-clean'], analysis: 'header' });
    const done = await svc.waitDone(id);
    expect(done).toMatchObject({ status: 'completed', files_done: 1 });
    expect((await results(svc, id)).map((r) => r.path)).toEqual(['dev-clean/7/8/7_8_000000_000000.wav']);
    const only = await svc.startScan({ libritts_path: ds, subsets: ['evil'], analysis: 'header' });
    expect(await svc.waitDone(only)).toMatchObject({ status: 'completed', files_done: 0 });
  });

  it('check-then-use: a queued task scans the directory resolved when it was accepted, and fails if that one is swapped', async () => {
    const root = tempDir('vl-r-');
    const out = outsideTree();
    onTestFinished(out.cleanup);
    const fifo = path.join(tempDir('vl-fifo-'), 'hang');
    execFileSync('mkfifo', [fifo]);
    // The first task holds the only scan slot, blocked in its worker, until the FIFO is opened.
    const blocker = path.join(root, 'blocker');
    fs.mkdirSync(blocker);
    fs.writeFileSync(path.join(blocker, 'hang.wav'), toneWav());
    const inside = makeLibriTTSTree({ root: path.join(root, 'target'), subsets: { 'dev-clean': 1 }, chaptersPerSpeaker: 1, utterancesPerChapter: 2, corrupt: false });
    const victim = makeLibriTTSTree({ root: path.join(root, 'victim'), subsets: { 'dev-clean': 1 }, chaptersPerSpeaker: 1, utterancesPerChapter: 2, corrupt: false });
    fs.symlinkSync(inside.root, path.join(root, 'swap'));
    const svc = await service({ SCAN_ROOTS: [root], MAX_CONCURRENT_SCANS: 1, SCAN_WORKERS: 1 }, { faults: { hangOn: { suffix: 'hang.wav', fifo } } });

    const first = await svc.startScan({ libritts_path: blocker, analysis: 'header' });
    const viaLink = await svc.startScan({ libritts_path: path.join(root, 'swap'), analysis: 'header' });
    const direct = await svc.startScan({ libritts_path: victim.root, analysis: 'header' });
    expect((await (await svc.request(`${BASE}/scan-status/${viaLink}`)).json()) as TaskSnapshot).toMatchObject({ status: 'queued' });
    // Both swaps happen while the tasks wait in the queue.
    fs.rmSync(path.join(root, 'swap'));
    fs.symlinkSync(out.root, path.join(root, 'swap'));
    fs.renameSync(victim.root, `${victim.root}.moved`);
    fs.symlinkSync(out.root, victim.root);
    // Releases the first task's worker, from another process: opening a FIFO to write blocks
    // until its reader (the worker, dispatched by this thread) has opened it.
    const release = spawn('sh', ['-c', 'echo go > "$0"', fifo]);
    onTestFinished(() => void release.kill());

    expect((await svc.waitDone(first)).status).toBe('completed');
    expect(await svc.waitDone(viaLink)).toMatchObject({ status: 'completed', files_done: inside.files.length });
    expect((await results(svc, viaLink)).map((r) => r.path).sort()).toEqual(inside.files.map((f) => f.rel).sort());
    // The directory resolved at the POST became a symlink out of the root: nothing is read.
    expect(await svc.waitDone(direct)).toMatchObject({ status: 'failed', files_done: 0, error: { code: 'PATH_NOT_ALLOWED' } });
    expect(await results(svc, direct)).toEqual([]);
  });

  it('a resume after a restart re-checks the root: a root swapped while the server was down fails the task', async () => {
    const root = tempDir('vl-r-');
    const out = outsideTree();
    onTestFinished(out.cleanup);
    const fifo = path.join(tempDir('vl-fifo-'), 'hang');
    execFileSync('mkfifo', [fifo]);
    const target = makeLibriTTSTree({ root: path.join(root, 'target'), subsets: { 'dev-clean': 1 }, chaptersPerSpeaker: 1, utterancesPerChapter: 3, corrupt: false });
    fs.writeFileSync(path.join(target.root, 'dev-clean', 'hang.wav'), toneWav());
    const env = { DB_PATH: path.join(tempDir('vl-db-'), 'v.db'), SCAN_ROOTS: root, SCAN_WORKERS: '1' };
    const first = await startChildServer(env, { faults: { hangOn: { suffix: 'hang.wav', fifo } } });
    onTestFinished(() => void first.proc.kill('SIGKILL'));
    const post = await fetch(`${first.url}${BASE}/scan-libritts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ libritts_path: target.root, analysis: 'header' }),
    });
    const { task_id: id } = (await post.json()) as { task_id: string };
    for (;;) {
      const s = (await (await fetch(`${first.url}${BASE}/scan-status/${id}`)).json()) as TaskSnapshot;
      if (s.status === 'running') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    first.proc.kill('SIGKILL');
    await first.exited;
    fs.renameSync(target.root, `${target.root}.moved`);
    fs.symlinkSync(out.root, target.root);

    const second = await startChildServer(env);
    onTestFinished(() => void second.proc.kill('SIGKILL'));
    let final: TaskSnapshot;
    for (;;) {
      final = (await (await fetch(`${second.url}${BASE}/scan-status/${id}`)).json()) as TaskSnapshot;
      if (['completed', 'failed', 'cancelled'].includes(final.status)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(final).toMatchObject({ status: 'failed', error: { code: 'PATH_NOT_ALLOWED' } });
    const rows = await (await fetch(`${second.url}${BASE}/scan-results/${id}?format=jsonl`)).text();
    expect(rows).not.toContain(SECRET);
    expect(rows).not.toContain('Reader'); // nothing of the outside tree's transcripts
  });
});

describe('sidecar files follow the WAV rules', () => {
  /** A tree whose sidecars (by name) are symlinks to a secret outside the root. */
  function treeWithLinkedSidecars(which: ('normalized' | 'original' | 'trans' | 'speakers.tsv' | 'SPEAKERS.txt')[]) {
    const tree = makeLibriTTSTree({ subsets: { 'dev-clean': 1 }, chaptersPerSpeaker: 1, utterancesPerChapter: 2, corrupt: false });
    const secret = path.join(tempDir('vl-secret-'), 'secret');
    fs.writeFileSync(secret, `${SECRET}\t${SECRET}\t${SECRET}\n100\tF\tdev-clean\t${SECRET}\n`);
    const link = (file: string) => {
      fs.rmSync(file, { force: true });
      fs.symlinkSync(secret, file);
    };
    for (const f of tree.files) {
      const base = path.join(tree.root, f.rel).slice(0, -4);
      if (which.includes('normalized')) link(`${base}.normalized.txt`);
      if (which.includes('original')) link(`${base}.original.txt`);
      if (which.includes('trans')) link(path.join(tree.root, path.dirname(f.rel), `${f.speaker}_${f.chapter}.trans.tsv`));
    }
    if (which.includes('speakers.tsv')) link(path.join(tree.root, 'speakers.tsv'));
    if (which.includes('SPEAKERS.txt')) link(path.join(tree.root, 'SPEAKERS.txt'));
    return tree;
  }

  for (const which of [['normalized'], ['original'], ['trans'], ['normalized', 'original', 'trans'], ['speakers.tsv'], ['speakers.tsv', 'SPEAKERS.txt']] as const) {
    it(`a symlinked ${which.join(' + ')} leading out of the root is never read`, async () => {
      const tree = treeWithLinkedSidecars([...which]);
      onTestFinished(tree.cleanup);
      const svc = await service({});
      const id = await svc.startScan({ libritts_path: tree.root, analysis: 'header' });
      expect((await svc.waitDone(id)).status).toBe('completed');
      const rows = await results(svc, id);
      const speakers = await (await svc.request(`${BASE}/scan-speakers/${id}`)).text();
      expect(JSON.stringify(rows) + speakers).not.toContain(SECRET);
      expect(rows).toHaveLength(tree.files.length);
      for (const r of rows) expect(r.error).toBeNull();
    });
  }
});

describe('FIFOs and huge files next to the WAVs', () => {
  /** A tree with a FIFO in every sidecar position. */
  function fifoTree() {
    const tree = makeLibriTTSTree({ subsets: { 'dev-clean': 1 }, chaptersPerSpeaker: 1, utterancesPerChapter: 2, corrupt: false });
    const fifo = (file: string) => {
      fs.rmSync(file, { force: true });
      execFileSync('mkfifo', [file]);
    };
    fifo(path.join(tree.root, 'speakers.tsv'));
    fifo(path.join(tree.root, 'SPEAKERS.txt'));
    for (const f of tree.files) {
      const base = path.join(tree.root, f.rel).slice(0, -4);
      fifo(`${base}.normalized.txt`);
      fifo(`${base}.original.txt`);
      fifo(path.join(tree.root, path.dirname(f.rel), `${f.speaker}_${f.chapter}.trans.tsv`));
    }
    return tree;
  }

  it('FIFOs in every sidecar position: four such scans at once complete, and the server keeps answering', async () => {
    const trees = Array.from({ length: 4 }, fifoTree);
    onTestFinished(() => trees.forEach((t) => t.cleanup()));
    const svc = await service({ MAX_CONCURRENT_SCANS: 4 });
    const started = performance.now();
    const ids = await Promise.all(trees.map((t) => svc.startScan({ libritts_path: t.root, analysis: 'full' })));
    // Node's file-system thread pool is free: a POST (which stats the path) and / still answer.
    const probe = performance.now();
    expect((await svc.post(`${BASE}/scan-libritts`, { libritts_path: '/nonexistent-vl' })).status).toBe(400);
    expect((await svc.request('/')).status).toBe(200);
    expect(performance.now() - probe).toBeLessThan(1000);
    const done = await Promise.all(ids.map((id) => svc.waitDone(id)));
    expect(performance.now() - started).toBeLessThan(10_000);
    for (const [i, d] of done.entries()) {
      expect(d).toMatchObject({ status: 'completed', files_done: trees[i]!.files.length, files_failed: 0 });
      const rows = await results(svc, ids[i]!);
      expect(rows.every((r) => r.text_normalized === null && r.sample_rate === 24000)).toBe(true);
    }
  });

  it('cancel and delete work on a scan of such a tree, and SIGTERM ends the server in time', async () => {
    const tree = fifoTree();
    onTestFinished(tree.cleanup);
    const server = await startChildServer({ DB_PATH: path.join(tempDir('vl-db-'), 'v.db') });
    onTestFinished(() => void server.proc.kill('SIGKILL'));
    const post = (body: unknown) => fetch(`${server.url}${BASE}/scan-libritts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const { task_id: id } = (await (await post({ libritts_path: tree.root })).json()) as { task_id: string };
    const status = async () => ((await (await fetch(`${server.url}${BASE}/scan-status/${id}`)).json()) as TaskSnapshot).status;
    for (let s = await status(); s === 'queued' || s === 'running'; s = await status()) await new Promise((r) => setTimeout(r, 20));
    expect(await status()).toBe('completed');
    expect((await fetch(`${server.url}${BASE}/scans/${id}`, { method: 'DELETE' })).status).toBe(204);
    // A second scan, stopped mid-way by SIGTERM.
    await post({ libritts_path: tree.root });
    const t = performance.now();
    server.proc.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(performance.now() - t).toBeLessThan(5000);
  });

  it('a worker stuck in a system call does not hold up SIGTERM past 5 s', async () => {
    const fifo = path.join(tempDir('vl-fifo-'), 'hang');
    execFileSync('mkfifo', [fifo]);
    const root = tempDir('vl-r-');
    fs.writeFileSync(path.join(root, 'hang.wav'), toneWav());
    const server = await startChildServer({ DB_PATH: path.join(tempDir('vl-db-'), 'v.db'), SCAN_WORKERS: '1' }, { faults: { hangOn: { suffix: 'hang.wav', fifo } } });
    onTestFinished(() => void server.proc.kill('SIGKILL'));
    const post = await fetch(`${server.url}${BASE}/scan-libritts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ libritts_path: root }),
    });
    const { task_id: id } = (await post.json()) as { task_id: string };
    for (;;) {
      const s = (await (await fetch(`${server.url}${BASE}/scan-status/${id}`)).json()) as TaskSnapshot;
      if (s.status === 'running' && s.phase === 'processing') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 100)); // the batch has reached the blocked read
    const t = performance.now();
    server.proc.kill('SIGTERM');
    await server.exited;
    expect(performance.now() - t).toBeLessThan(5000);
    expect(server.logs.some((l) => l.includes('stuck in a system call; killing the process'))).toBe(true);
  });

  it('huge sparse sidecars are not read: the scan stays small and their text is null', async () => {
    const tree = makeLibriTTSTree({ subsets: { 'dev-clean': 1 }, chaptersPerSpeaker: 1, utterancesPerChapter: 2, corrupt: false });
    onTestFinished(tree.cleanup);
    const sparse = (file: string) => {
      fs.writeFileSync(file, 'x');
      fs.truncateSync(file, 1024 ** 3);
    };
    sparse(path.join(tree.root, 'speakers.tsv'));
    for (const f of tree.files) {
      const base = path.join(tree.root, f.rel).slice(0, -4);
      sparse(`${base}.original.txt`);
      sparse(path.join(tree.root, path.dirname(f.rel), `${f.speaker}_${f.chapter}.trans.tsv`));
    }
    const server = await startChildServer({ DB_PATH: path.join(tempDir('vl-db-'), 'v.db') });
    onTestFinished(() => void server.proc.kill('SIGKILL'));
    const post = await fetch(`${server.url}${BASE}/scan-libritts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ libritts_path: tree.root, analysis: 'header' }),
    });
    const { task_id: id } = (await post.json()) as { task_id: string };
    const events = await (await fetch(`${server.url}${BASE}/scan-events/${id}`)).text();
    expect(events).toContain('event: completed');
    const rows = (await (await fetch(`${server.url}${BASE}/scan-results/${id}?format=jsonl`)).text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as FileResult);
    expect(rows.map((r) => [r.text_original, r.text_normalized !== null])).toEqual(rows.map(() => [null, true]));
    // Peak resident memory of the whole server process: a 1 GB sidecar read would exceed it alone.
    const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${server.proc.pid}/status`, 'utf8'))![1]) * 1024;
    expect(hwm).toBeLessThan(400 * 1024 * 1024);
  });

  it('a WAV whose samples are nearly all holes (16 TiB on no disk) is a failed row at once under full analysis, not hours of reading zeros', async () => {
    const dir = tempDir('vl-sparse-');
    const huge = path.join(dir, 'huge.wav');
    // A 44-byte header declaring a streamed data size ("to the end of the file"), then a file of 16 TiB, sparse.
    const head = toneWav({ durationS: 0 }).subarray(0, 44);
    head.writeUInt32LE(0xffffffff, 4);
    head.writeUInt32LE(0xffffffff, 40);
    fs.writeFileSync(huge, head);
    try {
      fs.truncateSync(huge, 16 * 1024 ** 4);
    } catch {
      fs.truncateSync(huge, 1024 ** 4); // a filesystem with a smaller limit
    }
    fs.writeFileSync(path.join(dir, 'ok.wav'), toneWav({ durationS: 0.5 }));
    const svc = await service({});
    const id = await svc.startScan({ libritts_path: dir, analysis: 'full' });
    expect((await svc.waitDone(id)).status).toBe('completed');
    const rows = await results(svc, id);
    const bad = rows.find((r) => r.path === 'huge.wav')!;
    expect(bad.error).toEqual({ code: 'READ_ERROR', detail: expect.stringMatching(/^sparse file: \d+ bytes of samples on \d+ bytes of disk; samples not read$/) });
    // The header is still reported; the signal fields are not.
    expect([bad.sample_rate, bad.channels, bad.peak_dbfs, bad.snr_db]).toEqual([24000, 1, null, null]);
    expect(rows.find((r) => r.path === 'ok.wav')!.error).toBeNull();
  });
});
