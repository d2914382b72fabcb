import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startChildServer } from '../helpers/child-server.ts';
import { makeLibriTTSTree, tempDir, type Tree } from '../helpers/libritts-tree.ts';
import { BASE, startTestService, type TestService } from '../helpers/service.ts';
import { rawWav, toneWav } from '../helpers/wav.ts';

/** GET /scan-audio: the exact bytes of a task's files, ranges, caching, and the 16-bit conversion. */

const CORPUS = fs.realpathSync(fileURLToPath(new URL('../../../shared/wav-conformance/', import.meta.url)));

let svc: TestService;
let tree: Tree;
let id: string;
let file: { rel: string; bytes: Buffer };

beforeAll(async () => {
  svc = await startTestService();
  tree = makeLibriTTSTree({ subsets: { 'dev-clean': 1 }, chaptersPerSpeaker: 1, utterancesPerChapter: 2, durationS: 0.5 });
  // A symlink out of the root among the results (OUTSIDE_ROOT), and a secret next to the tree.
  fs.writeFileSync(path.join(path.dirname(tree.root), 'secret.wav'), toneWav({ durationS: 0.01 }));
  fs.symlinkSync(path.join(path.dirname(tree.root), 'secret.wav'), path.join(tree.root, 'dev-clean', 'escape.wav'));
  fs.symlinkSync('/etc/passwd', path.join(tree.root, 'dev-clean', 'passwd.wav'));
  id = await svc.startScan({ libritts_path: tree.root, analysis: 'full' });
  await svc.waitDone(id);
  const rel = tree.files[0]!.rel;
  file = { rel, bytes: fs.readFileSync(path.join(tree.root, rel)) };
});
afterAll(async () => {
  await svc.close();
  tree.cleanup();
});

const audio = (p: string, init?: RequestInit, extra = '') => svc.request(`${BASE}/scan-audio/${id}?path=${encodeURIComponent(p)}${extra}`, init);

describe('GET /scan-audio', () => {
  it('is refused (403 PATH_NOT_ALLOWED) once the task’s root is taken out of SCAN_ROOTS, and served while it is in', async () => {
    const elsewhere = tempDir('vl-other-root-');
    for (const [roots, status] of [
      [[elsewhere, path.dirname(tree.root)], 200],
      [[elsewhere], 403],
    ] as const) {
      // The same database, another configuration: as after a restart with SCAN_ROOTS changed.
      const other = await startTestService({ DB_PATH: svc.config.DB_PATH, SCAN_ROOTS: [...roots] });
      onTestFinished(async () => void (await other.close()));
      const res = await other.request(`${BASE}/scan-audio/${id}?path=${encodeURIComponent(file.rel)}`);
      expect(res.status, roots.join(':')).toBe(status);
      if (status === 403) expect(await res.json()).toMatchObject({ code: 'PATH_NOT_ALLOWED' });
      else await res.arrayBuffer();
    }
  });

  it('answers the exact bytes of a result’s file, with its type, ETag and Accept-Ranges', async () => {
    const res = await audio(file.rel);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/wav');
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('content-length')).toBe(String(file.bytes.length));
    expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(Buffer.from(await res.arrayBuffer()).equals(file.bytes)).toBe(true);
  });

  it.each([
    ['bytes=0-99', 0, 99],
    ['bytes=100-', 100, -1],
    ['bytes=-50', -50, -1],
    ['bytes=10-10', 10, 10],
    ['bytes=0-99999999', 0, -1],
  ])('Range %s → 206 with the slice and its Content-Range', async (range, from, to) => {
    const size = file.bytes.length;
    const start = from < 0 ? size + from : from;
    const end = to < 0 ? size - 1 : to;
    const res = await audio(file.rel, { headers: { range } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/${size}`);
    expect(res.headers.get('content-length')).toBe(String(end - start + 1));
    expect(Buffer.from(await res.arrayBuffer()).equals(file.bytes.subarray(start, end + 1))).toBe(true);
  });

  it.each(['bytes=999999999-', 'bytes=-0', 'bytes=50-10'])('an unsatisfiable Range %s → 416 with Content-Range: bytes */size', async (range) => {
    const res = await audio(file.rel, { headers: { range } });
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe(`bytes */${file.bytes.length}`);
    expect(await res.json()).toMatchObject({ code: 'RANGE_NOT_SATISFIABLE' });
  });

  it('answers If-None-Match with 304, and HEAD with the headers alone', async () => {
    const etag = (await audio(file.rel)).headers.get('etag')!;
    const cached = await audio(file.rel, { headers: { 'if-none-match': etag } });
    expect(cached.status).toBe(304);
    expect([cached.headers.get('etag'), cached.headers.get('cache-control')]).toEqual([etag, 'private, no-cache']);
    const head = await audio(file.rel, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(file.bytes.length));
    expect(await head.text()).toBe('');
  });

  it.each([
    ['`..` out of the tree', '../secret.wav'],
    ['`..` inside a path', `${file?.rel ?? 'dev-clean/x'}/../../../../etc/passwd`],
    ['encoded dots', '%2e%2e%2fsecret.wav'],
    ['double-encoded dots', '%252e%252e%252fsecret.wav'],
    ['an absolute path', '/etc/passwd'],
    ['a transcript', 'TRANSCRIPT'],
    ['speakers.tsv', 'speakers.tsv'],
    ['a symlink to a file outside the root (a result row, OUTSIDE_ROOT)', 'dev-clean/escape.wav'],
    ['a symlink to /etc/passwd (a result row)', 'dev-clean/passwd.wav'],
    ['a bad escape', 'dev-clean/caf\\x'],
  ])('never serves a file outside the results: %s → 404 FILE_NOT_FOUND', async (_name, p) => {
    const target = p === 'TRANSCRIPT' ? file.rel.replace(/\.wav$/, '.normalized.txt') : p;
    const res = await audio(target);
    expect(res.status).toBe(404);
    const body = await res.text();
    expect(JSON.parse(body)).toMatchObject({ code: 'FILE_NOT_FOUND' });
    expect(body).not.toContain('root:');
    // An error's JSON is no audio file to save.
    expect([res.headers.get('content-type'), res.headers.get('content-disposition')]).toEqual([expect.stringMatching(/^application\/json/), null]);
  });

  it('takes ?access_token= when API_TOKEN is set (an <audio> element cannot send headers)', async () => {
    const guarded = await startTestService({ API_TOKEN: 'audio-secret' });
    onTestFinished(async () => void (await guarded.close()));
    const auth = { headers: { authorization: 'Bearer audio-secret' } };
    const post = await guarded.request(`${BASE}/scan-libritts`, {
      method: 'POST',
      headers: { ...auth.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ libritts_path: tree.root, analysis: 'header' }),
    });
    const { task_id } = (await post.json()) as { task_id: string };
    await guarded.waitDone(task_id);
    const url = `${BASE}/scan-audio/${task_id}?path=${encodeURIComponent(file.rel)}`;
    expect((await guarded.request(url)).status).toBe(401);
    expect((await guarded.request(`${url}&access_token=wrong`)).status).toBe(401);
    const ok = await guarded.request(`${url}&access_token=audio-secret`);
    expect(ok.status).toBe(200);
    // A URL that carries the token is cached nowhere; one that does not stays revalidated.
    expect(ok.headers.get('cache-control')).toBe('no-store');
    expect(Buffer.from(await ok.arrayBuffer()).equals(file.bytes)).toBe(true);
    const pcm16 = await guarded.request(`${url}&as=pcm16&access_token=audio-secret`);
    expect([pcm16.status, pcm16.headers.get('cache-control')]).toEqual([200, 'no-store']);
    await pcm16.body?.cancel();
    const bearer = await guarded.request(url, { headers: { authorization: 'Bearer audio-secret' } });
    expect(bearer.headers.get('cache-control')).toBe('private, no-cache');
    await bearer.body?.cancel();
  });
});

/**
 * The sample width and data of a little-endian integer PCM WAV that sox misreads, or null: sox reads
 * valid bits narrower than their container as if packed (ignoring the block alignment), and takes
 * integers wider than 32 bits for doubles.
 */
function soxMisreads(file: string): { width: number; data: Buffer } | null {
  const bytes = fs.readFileSync(file);
  if (bytes.toString('latin1', 0, 4) !== 'RIFF') return null;
  let at = 12;
  let width = 0;
  let bits = 0;
  let integer = false;
  while (at + 8 <= bytes.length) {
    const id = bytes.toString('latin1', at, at + 4);
    const size = bytes.readUInt32LE(at + 4);
    if (id === 'fmt ') {
      const tag = bytes.readUInt16LE(at + 8);
      integer = tag === 1 || (tag === 0xfffe && bytes.readUInt16LE(at + 8 + 24) === 1);
      width = bytes.readUInt16LE(at + 8 + 12) / bytes.readUInt16LE(at + 8 + 2);
      bits = bytes.readUInt16LE(at + 8 + 14);
    }
    if (id === 'data') return integer && width > 1 && (bits < 8 * width || width > 4) ? { width, data: bytes.subarray(at + 8, at + 8 + size) } : null;
    at += 8 + size + (size & 1);
  }
  return null;
}

/** A little-endian signed integer of any width, scaled to 16 bits by its container (valid bits are left-justified), rounded and clipped. */
function containerTo16(data: Buffer, at: number, width: number): number {
  let v = 0n;
  for (let i = width - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[at + i]!);
  const x = Number(BigInt.asIntN(8 * width, v)) / 2 ** (8 * width - 16);
  return Math.max(-32768, Math.min(32767, Math.round(x))) + 0;
}

/** Samples of a 16-bit PCM WAV (our output, or sox's). */
function pcm16Samples(bytes: Buffer): { rate: number; channels: number; samples: Int16Array } {
  let at = 12;
  let rate = 0;
  let channels = 0;
  while (at + 8 <= bytes.length) {
    const id = bytes.toString('latin1', at, at + 4);
    const size = bytes.readUInt32LE(at + 4);
    if (id === 'fmt ') {
      expect(bytes.readUInt16LE(at + 8 + 14)).toBe(16);
      channels = bytes.readUInt16LE(at + 10);
      rate = bytes.readUInt32LE(at + 12);
    }
    if (id === 'data') {
      const body = bytes.subarray(at + 8, at + 8 + Math.min(size, bytes.length - at - 8));
      const copy = Buffer.from(body.subarray(0, body.length - (body.length % 2)));
      return { rate, channels, samples: new Int16Array(copy.buffer, copy.byteOffset, copy.length / 2) };
    }
    at += 8 + size + (size & 1);
  }
  throw new Error('no data chunk');
}

describe('GET /scan-audio?as=pcm16', () => {
  let corpus: TestService;
  let corpusTask: string;
  let okFiles: string[];
  beforeAll(async () => {
    corpus = await startTestService();
    corpusTask = await corpus.startScan({ libritts_path: CORPUS, analysis: 'header' });
    await corpus.waitDone(corpusTask);
    const rows = (await (await corpus.request(`${BASE}/scan-results/${corpusTask}?format=jsonl`)).text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { path: string; error: { code: string } | null; encoding: string | null; duration_s: number | null });
    // Every file whose samples the scanner decodes: no error, or only a cut-short data chunk.
    okFiles = rows.filter((r) => (!r.error || (r.error.code === 'TRUNCATED' && r.duration_s !== null)) && r.encoding && !/^format_/.test(r.encoding)).map((r) => r.path);
  });
  afterAll(async () => {
    await corpus.close();
  });

  it('converts every conformance file the scanner decodes like `sox -D … -b 16 -e signed`, within ±1 LSB', async () => {
    expect(okFiles.length).toBeGreaterThanOrEqual(25);
    let compared = 0;
    const unreadableBySox: string[] = [];
    const misread: string[] = [];
    for (const rel of okFiles) {
      const res = await corpus.request(`${BASE}/scan-audio/${corpusTask}?as=pcm16&path=${encodeURIComponent(rel)}`);
      expect(res.status, rel).toBe(200);
      const ours = Buffer.from(await res.arrayBuffer());
      expect(res.headers.get('content-length'), rel).toBe(String(ours.length));
      const mine = pcm16Samples(ours);
      const out = path.join(tempDir('vl-sox-'), 'o.wav');
      const sox = spawnSync('sox', ['-D', path.join(CORPUS, rel), '-b', '16', '-e', 'signed', out], { encoding: 'utf8' });
      if (sox.error) throw new Error(`sox is needed for this test (apt-get install -y sox): ${sox.error.message}`);
      if (sox.status !== 0) {
        unreadableBySox.push(rel);
        continue;
      }
      // Formats sox misreads are checked below against an independent decoder.
      if (soxMisreads(path.join(CORPUS, rel))) {
        misread.push(rel);
        continue;
      }
      const theirs = pcm16Samples(fs.readFileSync(out));
      expect([mine.rate, mine.channels], rel).toEqual([theirs.rate, theirs.channels]);
      const n = Math.min(mine.samples.length, theirs.samples.length);
      // A truncated file: sox may stop a frame short of the frames present; never more than one.
      expect(Math.abs(mine.samples.length - theirs.samples.length), rel).toBeLessThanOrEqual(mine.channels);
      let worst = 0;
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(mine.samples[i]! - theirs.samples[i]!));
      expect(worst, rel).toBeLessThanOrEqual(1);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(20);
    // sox refuses a few odd widths outright (36-bit, 5-bit in a byte…); those are checked below.
    expect(unreadableBySox.length + misread.length).toBe(okFiles.length - compared);
    expect(misread.length).toBeGreaterThanOrEqual(2);
    for (const rel of misread) {
      const mine = pcm16Samples(Buffer.from(await (await corpus.request(`${BASE}/scan-audio/${corpusTask}?as=pcm16&path=${encodeURIComponent(rel)}`)).arrayBuffer()));
      const { width, data } = soxMisreads(path.join(CORPUS, rel))!;
      const expected = [];
      for (let at = 0; at + width <= data.length; at += width) expected.push(containerTo16(data, at, width));
      expect([...mine.samples], rel).toEqual(expected);
    }
  });

  it('converts odd widths sox cannot read the way an independent decoder in this test does', async () => {
    const dir = tempDir('vl-odd-');
    // 36-bit big samples as 5-byte little-endian integers, 2 channels, and unsigned 8-bit.
    const samples36 = [0, 1, -1, 2 ** 34, -(2 ** 34), 2 ** 35 - 1, -(2 ** 35)];
    const data36 = Buffer.alloc(samples36.length * 5);
    samples36.forEach((v, i) => data36.writeIntLE(v * 16, i * 5, 5)); // 36 valid bits, left-justified in 40
    fs.writeFileSync(path.join(dir, 'w36.wav'), rawWav({ bitsPerSample: 40, channels: 1, data: data36 }));
    const u8 = Buffer.from([0, 1, 127, 128, 129, 255]);
    fs.writeFileSync(path.join(dir, 'u8.wav'), rawWav({ bitsPerSample: 8, channels: 2, data: u8 }));
    const local = await startTestService();
    onTestFinished(async () => void (await local.close()));
    const t = await local.startScan({ libritts_path: dir, analysis: 'header' });
    await local.waitDone(t);
    const get = async (rel: string) => pcm16Samples(Buffer.from(await (await local.request(`${BASE}/scan-audio/${t}?as=pcm16&path=${rel}`)).arrayBuffer()));
    const w36 = await get('w36.wav');
    expect([...w36.samples]).toEqual(samples36.map((v) => Math.max(-32768, Math.min(32767, Math.round((v * 16) / 2 ** 24))) + 0));
    const w8 = await get('u8.wav');
    expect(w8.channels).toBe(2);
    expect([...w8.samples]).toEqual([...u8].map((v) => (v - 128) * 256));
  });

  it('refuses a file it cannot decode with 415, and a path outside the results with 404', async () => {
    const failed = (await (await corpus.request(`${BASE}/scan-results/${corpusTask}?only=failed&limit=1000`)).json()) as { items: { path: string; error: { code: string } }[] };
    const broken = failed.items.filter((r) => r.error.code !== 'TRUNCATED');
    expect(broken.length).toBeGreaterThanOrEqual(5);
    for (const row of broken) {
      const res = await corpus.request(`${BASE}/scan-audio/${corpusTask}?as=pcm16&path=${encodeURIComponent(row.path)}`);
      expect(res.status, row.path).toBe(415);
      expect(await res.json(), row.path).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
      // The bytes themselves are still served as they are.
      expect((await corpus.request(`${BASE}/scan-audio/${corpusTask}?path=${encodeURIComponent(row.path)}`)).status, row.path).toBe(200);
    }
    expect((await corpus.request(`${BASE}/scan-audio/${corpusTask}?as=pcm16&path=..%2Fx.wav`)).status).toBe(404);
  });

  it('refuses with 415 a decodable file whose 16-bit header cannot hold its channels or byte rate, never a 200 with no body', async () => {
    const dir = tempDir('vl-wide-');
    // 40,000 channels: the output's block size (2 bytes a channel) passes 16 bits; 4 GHz: its byte rate passes 32.
    fs.writeFileSync(path.join(dir, 'many.wav'), rawWav({ bitsPerSample: 8, channels: 40000, sampleRate: 8000, data: Buffer.alloc(80000, 128) }));
    fs.writeFileSync(path.join(dir, 'fast.wav'), rawWav({ bitsPerSample: 8, channels: 1, sampleRate: 4_000_000_000, data: Buffer.alloc(4, 128) }));
    const local = await startTestService();
    onTestFinished(async () => void (await local.close()));
    const t = await local.startScan({ libritts_path: dir, analysis: 'header' });
    await local.waitDone(t);
    for (const [rel, why] of [
      ['many.wav', '40000 channels do not fit a 16-bit WAV header'],
      ['fast.wav', '4000000000 Hz × 1 channels do not fit a 16-bit WAV header'],
    ] as const) {
      const res = await local.request(`${BASE}/scan-audio/${t}?as=pcm16&path=${rel}`);
      expect(res.status, rel).toBe(415);
      expect(await res.json(), rel).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', detail: `cannot convert this file: ${why}` });
      expect((await local.request(`${BASE}/scan-audio/${t}?path=${rel}`)).status, rel).toBe(200);
    }
  });

  it('fails the response, not ends it as if whole, when the file shrinks while it is converted', async () => {
    const dir = tempDir('vl-shrink-');
    const f = path.join(dir, 'long.wav');
    // 24-bit, so that the conversion goes through the decoder chunk by chunk (~1 MB of input each).
    fs.writeFileSync(f, rawWav({ bitsPerSample: 24, channels: 1, sampleRate: 48000, data: Buffer.alloc(6 * 1024 * 1024) }));
    const local = await startTestService();
    onTestFinished(async () => void (await local.close()));
    const t = await local.startScan({ libritts_path: dir, analysis: 'header' });
    await local.waitDone(t);
    const res = await local.request(`${BASE}/scan-audio/${t}?as=pcm16&path=long.wav`);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let received = (await reader.read()).value!.length; // the 44-byte header
    received += (await reader.read()).value!.length; // the first chunk
    fs.truncateSync(f, 2 * 1024 * 1024);
    const rest = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return received;
        received += value.length;
      }
    })();
    await expect(rest).rejects.toThrow('the file shrank while it was read');
    expect(received).toBeLessThan(Number(res.headers.get('content-length')));
  });

  // A regular file whose reads fail (EINVAL): a sysfs attribute bind-mounted over a scanned WAV.
  const lo = '/sys/class/net/lo/speed';
  const canMount = process.getuid?.() === 0 && fs.existsSync(lo) && spawnSync('mount', ['--version']).status === 0;
  it.skipIf(!canMount)('answers 404 for a file whose header read fails, and the service lives on (it once ended the process)', async () => {
    const dir = tempDir('vl-eio-');
    fs.writeFileSync(path.join(dir, 'a.wav'), toneWav({ durationS: 0.1 }));
    fs.writeFileSync(path.join(dir, 'b.wav'), toneWav({ durationS: 0.1 }));
    const local = await startTestService();
    onTestFinished(async () => void (await local.close()));
    const t = await local.startScan({ libritts_path: dir, analysis: 'header' });
    await local.waitDone(t);
    const target = path.join(dir, 'a.wav');
    const mount = spawnSync('mount', ['--bind', lo, target]);
    if (mount.status !== 0) throw new Error(`cannot bind-mount for this test: ${mount.stderr}`);
    onTestFinished(() => void spawnSync('umount', [target]));
    expect(() => fs.readFileSync(target)).toThrow(/EINVAL/);
    const res = await local.request(`${BASE}/scan-audio/${t}?as=pcm16&path=a.wav`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'FILE_NOT_FOUND' });
    // The same conversion thread serves the next request.
    const ok = await local.request(`${BASE}/scan-audio/${t}?as=pcm16&path=b.wav`);
    expect(ok.status).toBe(200);
    expect(
      Buffer.from(await ok.arrayBuffer())
        .subarray(0, 4)
        .toString('latin1'),
    ).toBe('RIFF');
  });

  it('holds at most MAX_AUDIO_CONVERSIONS open (503 TOO_MANY_STREAMS with Retry-After beyond), and a closed one frees its place', async () => {
    const local = await startTestService({ MAX_AUDIO_CONVERSIONS: 2 });
    onTestFinished(async () => void (await local.close()));
    const t = await local.startScan({ libritts_path: tree.root, analysis: 'header' });
    await local.waitDone(t);
    const url = `${BASE}/scan-audio/${t}?as=pcm16&path=${encodeURIComponent(file.rel)}`;
    // Two slow clients: opened, not read.
    const open = [await local.request(url), await local.request(url)];
    expect(open.map((r) => r.status)).toEqual([200, 200]);
    const busy = await local.request(url);
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBe('5');
    expect(await busy.json()).toMatchObject({ code: 'TOO_MANY_STREAMS' });
    // The file as it is stays served meanwhile.
    expect((await local.request(`${BASE}/scan-audio/${t}?path=${encodeURIComponent(file.rel)}`)).status).toBe(200);
    await open[0]!.body!.cancel();
    const again = await local.request(url);
    expect(again.status).toBe(200);
    // Read to its end, a conversion frees its place too.
    expect((await again.arrayBuffer()).byteLength).toBe(Number(again.headers.get('content-length')));
    const last = await local.request(url);
    expect(last.status).toBe(200);
    await last.body!.cancel();
    await open[1]!.body!.cancel();
  });

  it('converts a 2 GB file in constant memory', async () => {
    const dir = tempDir('vl-big-');
    const big = path.join(dir, 'big.wav');
    // 24-bit mono, so every sample goes through the decoder; sparse: 2 GB of silence on no disk.
    const head = rawWav({ bitsPerSample: 24, channels: 1, sampleRate: 48000, data: Buffer.alloc(0) });
    const dataBytes = 2 * 1024 ** 3 - ((2 * 1024 ** 3) % 3);
    head.writeUInt32LE(36 + dataBytes, 4);
    head.writeUInt32LE(dataBytes, 40);
    fs.writeFileSync(big, head);
    fs.truncateSync(big, head.length + dataBytes);
    const server = await startChildServer({ DB_PATH: path.join(tempDir('vl-db-'), 'v.db') });
    onTestFinished(() => void server.proc.kill('SIGKILL'));
    const post = await fetch(`${server.url}${BASE}/scan-libritts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ libritts_path: dir, analysis: 'header' }),
    });
    const { task_id } = (await post.json()) as { task_id: string };
    await (await fetch(`${server.url}${BASE}/scan-events/${task_id}`)).text();
    const res = await fetch(`${server.url}${BASE}/scan-audio/${task_id}?as=pcm16&path=big.wav`);
    expect(res.status).toBe(200);
    const expected = 44 + (dataBytes / 3) * 2;
    expect(res.headers.get('content-length')).toBe(String(expected));
    let received = 0;
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.length;
    }
    expect(received).toBe(expected);
    const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${server.proc.pid}/status`, 'utf8'))![1]) * 1024;
    expect(hwm).toBeLessThan(400 * 1024 * 1024);
  }, 120_000);
});
