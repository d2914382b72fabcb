// The conversion thread of the audio route: reads a scanned file under the scan's file rules and
// converts it to 16-bit PCM chunk by chunk, as the HTTP stream asks for them (pcm16-converter.ts).
import fs from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { FdSource } from './byte-source.ts';
import { fsPath } from './file-names.ts';
import { cannotConvert, pcm16Header, toPcm16 } from './pcm16.ts';
import { ioError, isOpened, openUnder } from './safe-open.ts';
import { readWavHeader, type WavFormat } from './wav-header.ts';

if (!parentPort) throw new Error('the conversion thread must run in a worker thread');
const port = parentPort;

/** Input bytes per chunk: whole frames, about this many. */
const CHUNK = 1 << 20;

interface Session {
  fd: number;
  fmt: WavFormat;
  at: number;
  end: number;
  headerSent: boolean;
  frames: number;
}

/**
 * One input buffer for every conversion: each message is handled whole before the next, and
 * every chunk sent is a copy. (One per conversion held ~1 MB for each slow client.)
 */
const buf = Buffer.allocUnsafe(CHUNK + 64 * 1024);

const sessions = new Map<number, Session>();

export type ConvertRequest = { type: 'open'; id: number; root: string; rel: string } | { type: 'next'; id: number } | { type: 'close'; id: number };
export type ConvertResponse =
  | { type: 'opened'; id: number; bytes: number }
  | { type: 'refused'; id: number; status: 404 | 415; detail: string }
  | { type: 'chunk'; id: number; data: ArrayBuffer }
  | { type: 'end'; id: number }
  /** A read failed mid-stream: the response must not look complete. */
  | { type: 'failed'; id: number; detail: string };

const send = (m: ConvertResponse, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

function close(id: number): void {
  const s = sessions.get(id);
  if (!s) return;
  sessions.delete(id);
  try {
    fs.closeSync(s.fd);
  } catch {
    // already closed
  }
}

port.on('message', (m: ConvertRequest) => {
  if (m.type === 'close') return close(m.id);
  if (m.type === 'open') {
    const opened = openUnder(m.root, fsPath(m.root, m.rel), true);
    if (!isOpened(opened)) return send({ type: 'refused', id: m.id, status: 404, detail: opened.detail });
    // Reading the header may fail (EIO, EINVAL from a file that is not what its type says): the
    // request is refused like a file that cannot be opened, and the thread lives on.
    let refusal: ConvertResponse;
    try {
      const { format, data, error } = readWavHeader(new FdSource(opened.fd, opened.size, buf));
      const why = format && data ? cannotConvert(format) : (error?.detail ?? 'no decodable samples');
      if (why === null && format && data) {
        sessions.set(m.id, { fd: opened.fd, fmt: format, at: data.offset, end: data.offset + data.bytes, headerSent: false, frames: data.frames });
        return send({ type: 'opened', id: m.id, bytes: 44 + data.frames * format.channels * 2 });
      }
      refusal = { type: 'refused', id: m.id, status: 415, detail: `cannot convert this file: ${why}` };
    } catch (err) {
      refusal = { type: 'refused', id: m.id, status: 404, detail: ioError(err).detail };
    }
    fs.closeSync(opened.fd);
    return send(refusal);
  }
  const s = sessions.get(m.id);
  if (!s) return send({ type: 'end', id: m.id });
  try {
    if (!s.headerSent) {
      s.headerSent = true;
      const h = pcm16Header(s.frames, s.fmt.sampleRate, s.fmt.channels);
      return send({ type: 'chunk', id: m.id, data: h.buffer.slice(h.byteOffset, h.byteOffset + h.length) as ArrayBuffer });
    }
    const want = Math.min(s.end - s.at, Math.max(s.fmt.blockAlign, Math.floor(CHUNK / s.fmt.blockAlign) * s.fmt.blockAlign));
    let got = 0;
    while (got < want) {
      const n = fs.readSync(s.fd, buf, got, want - got, s.at + got);
      if (n === 0) break;
      got += n;
    }
    const whole = got - (got % s.fmt.blockAlign);
    if (whole === 0) {
      close(m.id);
      // Short of the data's end: the file shrank since it was opened, and the length promised cannot be kept.
      return send(want > 0 && got < s.fmt.blockAlign ? { type: 'failed', id: m.id, detail: 'the file shrank while it was read' } : { type: 'end', id: m.id });
    }
    s.at += whole;
    const out = toPcm16(s.fmt, buf.subarray(0, whole));
    send({ type: 'chunk', id: m.id, data: out.buffer.slice(out.byteOffset, out.byteOffset + out.length) as ArrayBuffer });
  } catch (err) {
    close(m.id);
    send({ type: 'failed', id: m.id, detail: ioError(err).detail });
  }
});
