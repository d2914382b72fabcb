import fs from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { LineBuffer } from './text.ts';

/**
 * Sorts lines that do not fit in memory in C-locale (byte) order, as `LC_ALL=C sort` does: runs
 * of `runSize` lines are sorted in memory and written to temporary files, then merged. Kaldi
 * wants every file sorted by utterance id, which is not an order the store can give. Lines carry
 * their own key first (a tab sorts below every character of a Kaldi id), and stay strings all the
 * way: parsing records per line tripled the garbage, and the peak RSS with it.
 */

/**
 * Code-point order, which is the byte order of the UTF-8 encoding; JavaScript's `<` compares
 * UTF-16 units, which differs once a string holds characters past U+FFFF.
 */
export function compareBytes(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (a character past U+FFFF) sorts above every other UTF-16 unit in UTF-8 order.
    const sx = x >= 0xd800 && x <= 0xdfff;
    const sy = y >= 0xd800 && y <= 0xdfff;
    if (sx !== sy) return sx ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

async function writeRun(dir: string, n: number, run: string[]): Promise<string> {
  run.sort(compareBytes);
  const file = path.join(dir, `run-${n}.txt`);
  const ws = fs.createWriteStream(file, { flags: 'wx', mode: 0o600 });
  // The callbacks carry a write's error; the stream emits it too, and unlistened that ended the
  // process (a full disk during a Kaldi export, stop 23).
  ws.on('error', () => {});
  try {
    const buf = new LineBuffer({ write: (c: string) => new Promise<void>((res, rej) => ws.write(c, (err) => (err ? rej(err) : res()))) });
    for (const line of run) await buf.add(line + '\n');
    await buf.flush();
    await new Promise<void>((res, rej) => ws.end((err?: Error | null) => (err ? rej(err) : res())));
  } finally {
    ws.destroy();
  }
  return file;
}

/**
 * The lines of a file, read 64 KiB at a time as they are asked for, into one buffer per run.
 * (readline's iterator reads ahead without bound, and a read stream per run kept each run's
 * chunks around: 40 runs of a 400k-row export held +150 MB; this holds 64 KiB per run.)
 */
async function* linesOf(file: string): AsyncGenerator<string> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(64 * 1024);
    const decoder = new StringDecoder('utf8');
    let rest = '';
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      const parts = (rest + decoder.write(buf.subarray(0, bytesRead))).split('\n');
      rest = parts.pop()!;
      yield* parts;
    }
    rest += decoder.end();
    if (rest) yield rest;
  } finally {
    await fh.close();
  }
}

/** Yields the lines (which must not hold `\n`) in byte order. */
export async function* externalSort(lines: AsyncIterable<string>, dir: string, runSize = 10_000): AsyncGenerator<string> {
  const runs: string[] = [];
  let run: string[] = [];
  for await (const line of lines) {
    run.push(line);
    if (run.length >= runSize) {
      runs.push(await writeRun(dir, runs.length, run));
      run = [];
    }
  }
  if (!runs.length) {
    yield* run.sort(compareBytes);
    return;
  }
  if (run.length) runs.push(await writeRun(dir, runs.length, run));
  run = [];
  // Merge: the head of each run; a linear minimum is enough for the runs a task makes (375k rows → 38).
  const readers = runs.map(linesOf);
  try {
    const heads = await Promise.all(readers.map(async (it) => (await it.next()).value ?? null));
    for (;;) {
      let best = -1;
      for (let i = 0; i < heads.length; i++) if (heads[i] !== null && (best < 0 || compareBytes(heads[i]!, heads[best]!) < 0)) best = i;
      if (best < 0) return;
      yield heads[best]!;
      heads[best] = (await readers[best]!.next()).value ?? null;
    }
  } finally {
    await Promise.all(readers.map((it) => it.return(undefined)));
  }
}
