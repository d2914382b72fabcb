import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Analysis } from '../../src/domain/file-result.ts';
import { SAMPLE_CHUNK } from '../../src/scan/analyze-file.ts';
import { sampleBuffer } from '../../src/scan/int16-kernel.ts';
import { TranscriptReader } from '../../src/scan/libritts.ts';
import { nativeIo, nativeIoMissing, openAt, PinnedDir, probeAt } from '../../src/scan/native-io.ts';
import { HeaderRecords, readBatch } from '../../src/scan/read-batch.ts';
import type { DiscoveredFile, ScanItem } from '../../src/scan/types.ts';
import { fingerprintFiles, walkWavFiles } from '../../src/scan/walk.ts';
import { makeLibriTTSTree, tempDir } from '../helpers/libritts-tree.ts';
import { packedFolders } from '../helpers/packed-folders.ts';
import { toneWav } from '../helpers/wav.ts';

const CORPUS = fs.realpathSync(path.resolve(import.meta.dirname, '../../../shared/wav-conformance'));

const io = nativeIo!;
const state = () => ({ buffer: sampleBuffer(SAMPLE_CHUNK), transcripts: new TranscriptReader() });
/**
 * Rows of a batch read the native way and the portable way (safe-open.ts), as JSON lines; with
 * `packed`, the native way also reads the same files as the walk packs them by folder (folders of
 * up to 20 files, more than the 8 headers read at a time), and must give the same rows.
 */
function bothWays(root: string, files: DiscoveredFile[], analysis: Analysis, between?: () => void, packed?: ScanItem[]): { native: string[]; portable: string[] } {
  const portable = readBatch(root, files, analysis, state(), { io: null, records: new HeaderRecords() }).map((r) => JSON.stringify(r));
  between?.();
  const native = readBatch(root, files, analysis, state(), { io, records: new HeaderRecords(8) }).map((r) => JSON.stringify(r));
  if (packed) expect(readBatch(root, packed, analysis, state(), { io, records: new HeaderRecords(8) }).map((r) => JSON.stringify(r))).toEqual(native);
  return { native, portable };
}

describe('the native file reader (native/scan-io.c)', () => {
  it('is built and loads here (npm install builds it; CI must not fall back unnoticed)', () => {
    expect(nativeIoMissing).toBe('');
    expect(nativeIo).not.toBeNull();
  });

  it.each(['header', 'full'] as const)('gives the very rows of the portable path on the conformance corpus and a LibriTTS tree (%s)', (analysis) => {
    for (const root of [CORPUS, fs.realpathSync(makeLibriTTSTree({ utterancesPerChapter: 11 }).root)]) {
      const files = [...walkWavFiles(root)];
      expect(files).toEqual([...walkWavFiles(root, undefined, { io: null })]);
      expect(files.length).toBeGreaterThan(10);
      const { native, portable } = bothWays(root, files, analysis, undefined, packedFolders(root, { max: 20, message: 64 }));
      expect(native).toEqual(portable);
    }
  });

  it('gives the very rows of the portable path on a hostile tree: links in and out, a FIFO, a folder named *.wav, bytes that are not UTF-8, a header past 4 KiB, files gone or changed', () => {
    const root = fs.realpathSync(tempDir('vl-native-'));
    const outside = tempDir('vl-native-out-');
    fs.writeFileSync(path.join(outside, 'secret.wav'), toneWav({ durationS: 0.02 }));
    const d = path.join(root, 'd');
    fs.mkdirSync(d);
    const wav = toneWav({ durationS: 0.05 });
    fs.writeFileSync(path.join(d, 'ok.wav'), wav);
    fs.symlinkSync(path.join(d, 'ok.wav'), path.join(d, 'in.wav'));
    fs.symlinkSync(path.join(outside, 'secret.wav'), path.join(d, 'out.wav'));
    execFileSync('mkfifo', [path.join(d, 'pipe.wav')]);
    fs.mkdirSync(path.join(d, 'folder.wav'));
    fs.writeFileSync(Buffer.concat([Buffer.from(`${d}/caf`), Buffer.from([0xe9]), Buffer.from('.wav')]), wav);
    fs.writeFileSync(path.join(d, 'empty.wav'), '');
    fs.writeFileSync(path.join(d, 'short.wav'), wav.subarray(0, 30));
    // A 6 KiB LIST chunk before fmt: the header ends past the first window read.
    const list = Buffer.alloc(8 + 6000);
    list.write('LIST', 0);
    list.writeUInt32LE(6000, 4);
    const long = Buffer.concat([wav.subarray(0, 12), list, wav.subarray(12)]);
    long.writeUInt32LE(long.length - 8, 4);
    fs.writeFileSync(path.join(d, 'long-header.wav'), long);
    fs.writeFileSync(path.join(d, 'gone.wav'), wav);
    const files: DiscoveredFile[] = [...walkWavFiles(root)];
    expect(files).toEqual([...walkWavFiles(root, undefined, { io: null })]);
    const packed: ScanItem[] = packedFolders(root, { max: 3 });
    const names = files.map((f) => f.rel).sort();
    expect(names).toEqual(['d/caf\\xe9.wav', 'd/empty.wav', 'd/gone.wav', 'd/in.wav', 'd/long-header.wav', 'd/ok.wav', 'd/out.wav', 'd/short.wav']);
    // Files the walk saw as regular files that are a FIFO and a folder by the time they are read, and one gone.
    files.push({ rel: 'd/pipe.wav', link: false }, { rel: 'd/folder.wav', link: false });
    packed.push({ rel: 'd/pipe.wav', link: false }, { rel: 'd/folder.wav', link: false });
    fs.unlinkSync(path.join(d, 'gone.wav'));
    const { native, portable } = bothWays(root, files, 'header', undefined, packed);
    expect(native).toEqual(portable);
    const byPath = new Map(native.map((l) => [JSON.parse(l).path as string, JSON.parse(l) as { error: { code: string; detail: string } | null; frames: number | null }]));
    expect(byPath.get('d/out.wav')!.error!.code).toBe('OUTSIDE_ROOT');
    expect(byPath.get('d/in.wav')!.error).toBeNull();
    expect(byPath.get('d/pipe.wav')!.error!.detail).toBe('not a regular file');
    expect(byPath.get('d/gone.wav')!.error!.detail).toBe('cannot read file (ENOENT)');
    expect(byPath.get('d/long-header.wav')!.frames).toBe(byPath.get('d/ok.wav')!.frames);
  });

  it('a folder swapped for a symlink out of the root between the walk and the read: nothing outside is read, either way', () => {
    const root = fs.realpathSync(tempDir('vl-native-swap-'));
    const outside = tempDir('vl-native-swap-out-');
    fs.mkdirSync(path.join(root, 'a'));
    fs.writeFileSync(path.join(root, 'a', 'x.wav'), toneWav({ durationS: 0.05 }));
    fs.writeFileSync(path.join(outside, 'x.wav'), toneWav({ durationS: 0.2 }));
    const files = [...walkWavFiles(root)];
    const packed = packedFolders(root);
    fs.renameSync(path.join(root, 'a'), path.join(root, 'a-moved'));
    fs.symlinkSync(outside, path.join(root, 'a'));
    for (const analysis of ['header', 'full'] as const) {
      const { native, portable } = bothWays(root, files, analysis, undefined, packed);
      expect(native).toEqual(portable);
      expect(JSON.parse(native[0]!)).toMatchObject({ path: 'a/x.wav', frames: null, error: { code: 'OUTSIDE_ROOT' } });
    }
  });

  it('a pinned folder stays the folder it was checked as, whatever its path leads to later', () => {
    const root = fs.realpathSync(tempDir('vl-native-pin-'));
    const outside = tempDir('vl-native-pin-out-');
    fs.mkdirSync(path.join(root, 'a'));
    fs.writeFileSync(path.join(root, 'a', 'x.wav'), 'inside');
    fs.writeFileSync(path.join(outside, 'x.wav'), 'outside');
    const pinned = PinnedDir.open(path.join(root, 'a'));
    if (!(pinned instanceof PinnedDir)) throw new Error(`not pinned: ${JSON.stringify(pinned)}`);
    try {
      fs.renameSync(path.join(root, 'a'), path.join(root, 'b'));
      fs.symlinkSync(outside, path.join(root, 'a'));
      const opened = openAt(io, pinned, Buffer.from('x.wav'));
      if (!('fd' in opened)) throw new Error(opened.detail);
      const buf = Buffer.alloc(16);
      const n = fs.readSync(opened.fd, buf, 0, 16, 0);
      opened.close(opened.fd);
      expect(buf.toString('utf8', 0, n)).toBe('inside');
      // A path through a symlink is not pinned at all.
      expect(PinnedDir.open(path.join(root, 'a'))).toMatchObject({ code: 'READ_ERROR', detail: expect.stringMatching(/ELOOP|ENOTDIR/) });
      fs.symlinkSync(path.join(root, 'b'), path.join(root, 'c'));
      expect(PinnedDir.open(`${root}/c/.`)).toMatchObject({ code: 'OUTSIDE_ROOT' });
    } finally {
      pinned.close();
    }
  });

  it('refuses names that would leave the folder, and bad arguments', () => {
    const root = fs.realpathSync(tempDir('vl-native-names-'));
    fs.mkdirSync(path.join(root, 'a'));
    fs.writeFileSync(path.join(root, 'secret.wav'), 'x');
    const pinned = PinnedDir.open(path.join(root, 'a')) as PinnedDir;
    try {
      for (const name of ['../secret.wav', '..', '.', '']) expect(openAt(io, pinned, Buffer.from(name))).toEqual({ code: 'READ_ERROR', detail: 'cannot read file (EINVAL)' });
      const out = Buffer.alloc(64 + 4096);
      expect(io.readHeaders(pinned.fd, Buffer.from('../secret.wav\0'), 1, 4096, out)).toBe(1);
      expect(out.readInt32LE(0)).toBe(22); // EINVAL
      // Fewer names than claimed, a name without its NUL, a record buffer too small: it stops there.
      expect(io.readHeaders(pinned.fd, Buffer.from('x.wav'), 3, 4096, out)).toBe(0);
      expect(io.readHeaders(pinned.fd, Buffer.from('x.wav\0y.wav\0'), 2, 4096, Buffer.alloc(100))).toBe(0);
      expect(() => io.readHeaders(pinned.fd, 'x.wav\0' as unknown as Buffer, 1, 4096, out)).toThrow(TypeError);
      expect(() => io.openAt(pinned.fd, Buffer.from('x.wav'), new Float64Array(3))).toThrow(TypeError); // no NUL
    } finally {
      pinned.close();
    }
  });

  it('stats a regular file without following a link: the size and nanosecond time lstat gives, nothing for anything else', () => {
    const root = fs.realpathSync(tempDir('vl-native-stat-'));
    fs.writeFileSync(path.join(root, 'a.wav'), toneWav({ durationS: 0.01 }));
    execFileSync('touch', ['-m', '-d', '2020-09-13 12:26:40.123456789', path.join(root, 'a.wav')]);
    fs.symlinkSync(path.join(root, 'a.wav'), path.join(root, 'link.wav'));
    fs.mkdirSync(path.join(root, 'dir.wav'));
    execFileSync('mkfifo', [path.join(root, 'fifo.wav')]);
    const pinned = PinnedDir.open(root) as PinnedDir;
    try {
      const st = fs.lstatSync(path.join(root, 'a.wav'), { bigint: true });
      expect(probeAt(io, pinned, Buffer.from('a.wav'))).toEqual({ size: Number(st.size), mtime_ns: String(st.mtimeNs) });
      expect(String(st.mtimeNs)).toMatch(/123456789$/);
      for (const name of ['link.wav', 'dir.wav', 'fifo.wav', '../a.wav', '..', '.']) expect(probeAt(io, pinned, Buffer.from(name))).toBe('other');
      expect(probeAt(io, pinned, Buffer.from('gone.wav'))).toBe('absent');
      expect(probeAt(io, pinned, Buffer.from('a.wav/x'))).toBe('other'); // a name, never a path
      const out = new Float64Array(3);
      expect(io.statAt(pinned.fd, Buffer.from('link.wav\0'), out)).toBe(-100000);
      expect(io.statAt(pinned.fd, Buffer.from('gone.wav\0'), out)).toBe(-2); // ENOENT
      expect(io.statAt(pinned.fd, Buffer.from('../a.wav\0'), out)).toBe(-22); // EINVAL
      expect(io.statAt(-100, Buffer.from('a.wav\0'), out)).toBe(-9); // EBADF, never the working directory
      expect(() => io.statAt(pinned.fd, Buffer.from('a.wav'), out)).toThrow(TypeError); // no NUL
      expect(() => io.statAt(pinned.fd, Buffer.from('a.wav\0'), new Float64Array(2))).toThrow(TypeError);
    } finally {
      pinned.close();
    }
  });

  it('fingerprints a rescan’s files natively as the portable lstat does, from the listing (a walk) or name by name (a reading thread): links, a FIFO, a folder named *.wav, text files that are links or absent, names that are not UTF-8', () => {
    const tree = makeLibriTTSTree({ utterancesPerChapter: 5 });
    const root = fs.realpathSync(tree.root);
    const firstRel = [...walkWavFiles(root)][0]!.rel;
    const chapter = path.dirname(path.join(root, firstRel));
    const first = path.basename(firstRel);
    const stem = first.slice(0, -4);
    fs.symlinkSync(path.join(chapter, first), path.join(chapter, 'zz_link.wav'));
    execFileSync('mkfifo', [path.join(chapter, 'zz_fifo.wav')]);
    fs.mkdirSync(path.join(chapter, 'zz_dir.wav'));
    fs.writeFileSync(path.join(chapter, Buffer.concat([Buffer.from('zz_'), Buffer.from([0xff, 0xfe]), Buffer.from('.wav')]).toString('latin1')), toneWav({ durationS: 0.01 }));
    fs.writeFileSync(Buffer.concat([Buffer.from(chapter + '/zz_'), Buffer.from([0xc3, 0x28]), Buffer.from('.wav')]), toneWav({ durationS: 0.01 }));
    for (const t of fs.readdirSync(chapter).filter((n) => n.endsWith('.trans.tsv'))) fs.rmSync(path.join(chapter, t));
    fs.rmSync(path.join(chapter, `${stem}.original.txt`), { force: true });
    fs.symlinkSync(path.join(chapter, `${stem}.normalized.txt`), path.join(chapter, `${stem}.original.txt`));
    // Other chapters: a table that is a symlink, a table that is a folder.
    const others = [...new Set([...walkWavFiles(root)].map((f) => path.dirname(path.join(root, f.rel))))].filter((d) => d !== chapter);
    const tableOf = (dir: string) => fs.readdirSync(dir).find((n) => n.endsWith('.trans.tsv'))!;
    const linked = path.join(others[0]!, tableOf(others[0]!));
    fs.renameSync(linked, `${linked}.real`);
    fs.symlinkSync(`${linked}.real`, linked);
    const folder = path.join(others[1]!, tableOf(others[1]!));
    fs.rmSync(folder);
    fs.mkdirSync(folder);
    const native = [...walkWavFiles(root, undefined, { fingerprints: true })];
    const portable = [...walkWavFiles(root, undefined, { fingerprints: true, io: null })];
    expect(native).toEqual(portable);
    expect(native.filter((f) => f.fp).length).toBeGreaterThan(20);
    expect(native.find((f) => f.rel.endsWith(first))!.fp!.sidecars).toMatchObject({ [`${stem}.original.txt`]: 'x' });
    // A reading thread handed the files without fingerprints takes the same ones, looking at each
    // name instead of the listing, either way of stat-ing.
    for (const way of [io, null]) {
      const handed = [...walkWavFiles(root)];
      fingerprintFiles(root, handed, way);
      expect(handed).toEqual(native);
    }
  });

  it('lists a folder of any size, names as bytes, kinds from the directory entry', () => {
    const root = fs.realpathSync(tempDir('vl-native-list-'));
    const names = Array.from({ length: 6000 }, (_, i) => `${String(i).padStart(6, '0')}_${'n'.repeat(200)}.wav`);
    for (const n of names) fs.writeFileSync(path.join(root, n), '');
    fs.mkdirSync(path.join(root, 'sub'));
    fs.symlinkSync('/etc', path.join(root, 'link'));
    fs.writeFileSync(Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0xff, 0xfe]), Buffer.from('.wav')]), '');
    // 6,000 names of 211 bytes do not fit the walk's first 1 MiB buffer: it grows.
    const listed = [...walkWavFiles(root)].map((f) => f.rel);
    expect(listed).toEqual([...walkWavFiles(root, undefined, { io: null })].map((f) => f.rel));
    expect(listed).toEqual([...names, '\\xff\\xfe.wav', 'link'].filter((n) => n.endsWith('.wav')).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
  });
});
