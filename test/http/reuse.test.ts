import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { TaskSnapshot } from '../../src/domain/task.ts';
import { startChildServer, type ChildServer } from '../helpers/child-server.ts';
import { ageTree, makeLibriTTSTree, tempDir, type Tree } from '../helpers/libritts-tree.ts';
import { BASE, startTestService, type TestService } from '../helpers/service.ts';
import { toneWav } from '../helpers/wav.ts';

/**
 * Incremental rescans (API.md `reuse`): rows of unchanged files are copied from the latest
 * completed scan of the root, and the results are exactly those of a scan that reads everything.
 */

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => {
  await svc.close();
});

/** A settled tree (files older than the racy window), 18 clips and 3 corrupt files. */
function settledTree(): Tree {
  const tree = makeLibriTTSTree({ subsets: { 'dev-clean': 2, 'test-clean': 1 }, chaptersPerSpeaker: 2, utterancesPerChapter: 3, clipDurations: [0.5, 0.8, 1.1] });
  ageTree(tree.root);
  onTestFinished(tree.cleanup);
  return tree;
}

async function scan(root: string, body: Record<string, unknown> = {}): Promise<TaskSnapshot> {
  const id = await svc.startScan({ libritts_path: root, analysis: 'full', ...body });
  return svc.waitDone(id);
}
const jsonl = async (id: string): Promise<string> => (await svc.request(`${BASE}/scan-results/${id}?format=jsonl`)).text();
const scannedBytes = async (): Promise<number> => Number(/^vl_scanned_bytes_total (\S+)$/m.exec(await (await svc.request('/metrics')).text())?.[1] ?? 0);

/** Rewrites a file with new content of the same size, and a new (settled) modification time. */
function rewriteSameSize(file: string): void {
  const bytes = fs.readFileSync(file);
  for (let i = 44; i < bytes.length; i++) bytes[i] = 255 - bytes[i]!;
  fs.writeFileSync(file, bytes);
  const old = new Date(Date.now() - 600_000);
  fs.utimesSync(file, old, old);
}

describe('POST /scan-libritts with reuse', () => {
  it('a rescan of an unchanged tree copies every row: nothing read, results byte for byte the same', async () => {
    const tree = settledTree();
    const total = tree.files.length + tree.corrupt.size;
    const first = await scan(tree.root);
    expect(first).toMatchObject({ status: 'completed', files_done: total, files_reused: 0 });
    expect(first.bytes_done).toBeGreaterThan(0);
    const bytesBefore = await scannedBytes();
    const again = await scan(tree.root);
    expect(again).toMatchObject({ status: 'completed', files_total: total, files_done: total, files_reused: total, bytes_done: 0, files_failed: tree.corrupt.size });
    expect(again.summary).toMatchObject({ files_reused: total, utterances: tree.files.length, failed: tree.corrupt.size });
    expect(again.summary).toEqual({ ...first.summary, files_reused: total });
    // Nothing read from disk: the bytes counter of /metrics did not move.
    expect(await scannedBytes()).toBe(bytesBefore);
    expect(await jsonl(again.task_id)).toBe(await jsonl(first.task_id));
    // reuse: "none" reads everything again.
    const fresh = await scan(tree.root, { reuse: 'none' });
    expect(fresh).toMatchObject({ files_reused: 0, bytes_done: first.bytes_done });
    expect(await jsonl(fresh.task_id)).toBe(await jsonl(first.task_id));
  });

  it('after rewrites, a touch, a deletion, an addition and an edited chapter table: exact counts, and the results of a full read', async () => {
    const tree = settledTree();
    const first = await scan(tree.root);
    const abs = (rel: string) => path.join(tree.root, rel);
    const [same, resized, touched, deleted] = [tree.files[0]!, tree.files[1]!, tree.files[2]!, tree.files[9]!];
    rewriteSameSize(abs(same.rel));
    fs.writeFileSync(abs(resized.rel), toneWav({ durationS: 1.7 }));
    const later = new Date(Date.now() - 300_000);
    fs.utimesSync(abs(touched.rel), later, later);
    fs.rmSync(abs(deleted.rel));
    const added = path.join(path.dirname(abs(tree.files[12]!.rel)), `${tree.files[12]!.speaker}_${tree.files[12]!.chapter}_000099_000001.wav`);
    fs.writeFileSync(added, toneWav({ durationS: 0.3 }));
    // A chapter table edited: every clip of that chapter has to be read again (its text may differ).
    const edited = tree.files[15]!;
    const table = path.join(path.dirname(abs(edited.rel)), `${edited.speaker}_${edited.chapter}.trans.tsv`);
    fs.writeFileSync(table, fs.readFileSync(table, 'utf8').replace(edited.text, 'An edited transcript.'));

    const rescan = await scan(tree.root);
    const fresh = await scan(tree.root, { reuse: 'none' });
    const inChapter = tree.files.filter((f) => f.speaker === edited.speaker && f.chapter === edited.chapter && f.rel !== deleted.rel).length;
    const total = tree.files.length + tree.corrupt.size; // one deleted, one added
    const reread = 3 + inChapter + 1; // rewritten twice and touched; the chapter; the new file
    expect(rescan).toMatchObject({ status: 'completed', files_done: total, files_total: total, files_reused: total - reread });
    expect(fresh).toMatchObject({ files_done: total, files_reused: 0 });
    expect(await jsonl(rescan.task_id)).toBe(await jsonl(fresh.task_id));
    expect(await jsonl(rescan.task_id)).not.toBe(await jsonl(first.task_id));
    expect(await jsonl(rescan.task_id)).toContain('An edited transcript.');
    // bytes_done counts the files read, and only those.
    const read = JSON.parse(`[${(await jsonl(fresh.task_id)).trim().split('\n').join(',')}]`) as { path: string; bytes: number }[];
    const rereadPaths = new Set([
      same.rel,
      resized.rel,
      touched.rel,
      path.relative(tree.root, added),
      ...tree.files.filter((f) => f.speaker === edited.speaker && f.chapter === edited.chapter).map((f) => f.rel),
    ]);
    expect(rescan.bytes_done).toBe(read.filter((r) => rereadPaths.has(r.path)).reduce((n, r) => n + r.bytes, 0));
  });

  it('a clip its chapter table lacks is judged by its own text files; one the table gives, by the table alone', async () => {
    const tree = makeLibriTTSTree({ subsets: { 'dev-clean': 1 }, chaptersPerSpeaker: 1, utterancesPerChapter: 4, clipDurations: [0.5] });
    onTestFinished(tree.cleanup);
    const [missing, listed] = [tree.files[0]!, tree.files[1]!];
    const dir = path.join(tree.root, path.dirname(missing.rel));
    const table = path.join(dir, `${missing.speaker}_${missing.chapter}.trans.tsv`);
    // The table without the first clip's line: its row is decided by its .txt files.
    fs.writeFileSync(
      table,
      fs
        .readFileSync(table, 'utf8')
        .split('\n')
        .filter((l) => !l.startsWith(missing.utterance))
        .join('\n'),
    );
    ageTree(tree.root);
    const first = await scan(tree.root);
    const old = new Date(Date.now() - 900_000);
    for (const f of [missing, listed]) {
      const txt = path.join(dir, `${f.utterance}.normalized.txt`);
      fs.writeFileSync(txt, `Edited words for ${f.utterance}.`);
      fs.utimesSync(txt, old, old);
    }
    const rescan = await scan(tree.root);
    const fresh = await scan(tree.root, { reuse: 'none' });
    // The first clip is read again (its text changed); the second is reused: the table gives its
    // text, whatever its .txt says, as a fresh scan shows.
    expect(rescan).toMatchObject({ files_done: first.files_done, files_reused: first.files_done - 1 });
    expect(await jsonl(rescan.task_id)).toBe(await jsonl(fresh.task_id));
    expect(await jsonl(rescan.task_id)).toContain(`Edited words for ${missing.utterance}.`);
    expect(await jsonl(rescan.task_id)).not.toContain(`Edited words for ${listed.utterance}.`);
  });

  it('a header rescan of a full scan’s tree keeps only the header fields: the same results as a fresh header scan', async () => {
    const tree = settledTree();
    const total = tree.files.length + tree.corrupt.size;
    await scan(tree.root);
    const header = await scan(tree.root, { analysis: 'header' });
    const freshHeader = await scan(tree.root, { analysis: 'header', reuse: 'none' });
    expect(header).toMatchObject({ files_reused: total, bytes_done: 0, analysis: 'header' });
    expect(await jsonl(header.task_id)).toBe(await jsonl(freshHeader.task_id));
    expect(await jsonl(header.task_id)).not.toContain('"snr_db":1');
    // A full scan never reuses a header scan's rows: they lack the signal fields.
    const tree2 = settledTree();
    await scan(tree2.root, { analysis: 'header' });
    expect(await scan(tree2.root)).toMatchObject({ files_reused: 0 });
  });

  it('does not reuse files written in the last two seconds (a write in the same timestamp tick would go unseen)', async () => {
    const tree = makeLibriTTSTree({ subsets: { 'dev-clean': 1 }, chaptersPerSpeaker: 1, utterancesPerChapter: 3, corrupt: false });
    onTestFinished(tree.cleanup);
    await scan(tree.root);
    expect(await scan(tree.root)).toMatchObject({ files_reused: 0 });
  });

  it('reuses only the same root’s latest completed scan, and refuses a bad reuse value', async () => {
    const tree = settledTree();
    const other = settledTree();
    await scan(other.root);
    expect(await scan(tree.root)).toMatchObject({ files_reused: 0 });
    const res = await svc.request(`${BASE}/scan-libritts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ libritts_path: tree.root, reuse: 'always' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});

describe('an incremental scan killed with SIGKILL', () => {
  it('resumes on restart: rows copied or read before the kill stay, the rest follow, results as a full read', async () => {
    const tree = settledTree();
    const dbPath = path.join(tempDir('vl-reuse-db-'), 'v.db');
    const env = { DB_PATH: dbPath, SCAN_WORKERS: '1' };
    const post = async (server: ChildServer, body: Record<string, unknown>) => {
      const res = await fetch(`${server.url}${BASE}/scan-libritts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ libritts_path: tree.root, ...body }),
      });
      return ((await res.json()) as { task_id: string }).task_id;
    };
    const status = async (server: ChildServer, id: string) => (await (await fetch(`${server.url}${BASE}/scan-status/${id}`)).json()) as TaskSnapshot;
    const until = async (server: ChildServer, id: string, ok: (s: TaskSnapshot) => boolean) => {
      for (let i = 0; i < 600; i++) {
        const s = await status(server, id);
        if (ok(s)) return s;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('timed out');
    };

    const first = await startChildServer(env);
    onTestFinished(() => void first.proc.kill('SIGKILL'));
    const a = await post(first, { analysis: 'full' });
    await until(first, a, (s) => s.status === 'completed');
    first.proc.kill('SIGTERM');
    await first.exited;

    // Two files change; the scan hangs reading the second one, after everything reusable was copied.
    const changed = [tree.files[3]!, tree.files[14]!];
    for (const f of changed) rewriteSameSize(path.join(tree.root, f.rel));
    const hang = path.basename(changed[1]!.rel);
    const fifo = path.join(tempDir('vl-fifo-'), 'hang');
    execFileSync('mkfifo', [fifo]);
    onTestFinished(() => void spawn('sh', ['-c', 'echo go > "$0"', fifo]));
    const second = await startChildServer(env, { faults: { hangOn: { suffix: hang, fifo } } });
    onTestFinished(() => void second.proc.kill('SIGKILL'));
    const total = tree.files.length + tree.corrupt.size;
    const b = await post(second, { analysis: 'full' });
    // Both changed files may be in the batch that hangs: then neither is recorded before the kill.
    // The scan thread copies a batch's unchanged rows before it reads the rest, so they are
    // recorded (the partial results show them) while the status counts them only when the
    // batch ends, which this one never does.
    const recorded = async () => ((await (await fetch(`${second.url}${BASE}/scan-results/${b}?limit=1`)).json()) as { total: number }).total;
    for (let i = 0; i < 600 && (await recorded()) < total - 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await recorded()).toBe(total - 2);
    expect((await status(second, b)).status).toBe('running');
    second.proc.kill('SIGKILL');
    await second.exited;

    const third = await startChildServer(env);
    onTestFinished(() => void third.proc.kill('SIGKILL'));
    const done = await until(third, b, (s) => s.status === 'completed');
    expect(done).toMatchObject({ files_done: total, files_reused: total - 2, files_failed: tree.corrupt.size });
    const fresh = await post(third, { analysis: 'full', reuse: 'none' });
    await until(third, fresh, (s) => s.status === 'completed');
    const rows = async (id: string) => (await fetch(`${third.url}${BASE}/scan-results/${id}?format=jsonl`)).text();
    expect(await rows(b)).toBe(await rows(fresh));
    const sizes = changed.map((f) => fs.statSync(path.join(tree.root, f.rel)).size);
    expect(done.bytes_done).toBe(sizes[0]! + sizes[1]!);
  }, 60_000);
});
