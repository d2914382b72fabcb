import fs from 'node:fs';
import path from 'node:path';
import { FdSource } from './byte-source.ts';
import { parseLibriTTSPath, type LibriTTSIds, type TranscriptReader } from './libritts.ts';
import { SignalAccumulator, type SignalStats } from './signal-stats.ts';
import type { Analysis, DiscoveredFile, FileResult } from './types.ts';
import { readWavHeader, type FileError } from './wav-header.ts';

/** What a header-only read fetches up front: enough for any ordinary header in one syscall. */
export const HEADER_WINDOW = 4096;
/** Samples are read in chunks of about this size, whatever the file's size. */
export const SAMPLE_CHUNK = 1 << 20;

const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;

const NO_SIGNAL: { [K in keyof SignalStats]: null } = {
  peak_dbfs: null,
  rms_dbfs: null,
  clipped_samples: null,
  dc_offset: null,
  leading_silence_s: null,
  trailing_silence_s: null,
};

/** Per-thread state reused across files: one sample buffer, the transcript cache. */
export interface AnalyzerState {
  buffer: Buffer;
  transcripts: TranscriptReader;
}

function ioError(err: unknown): FileError {
  const code = (err as NodeJS.ErrnoException)?.code ?? 'EIO';
  return { code: 'READ_ERROR', detail: `cannot read file (${code})` };
}

function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** A result with the ids its path gives and every measured field null. */
export function blankResult(rel: string, error: FileError | null = null): FileResult {
  return {
    path: rel,
    ...parseLibriTTSPath(rel),
    text_normalized: null,
    text_original: null,
    sample_rate: null,
    channels: null,
    bits_per_sample: null,
    encoding: null,
    frames: null,
    duration_s: null,
    bytes: null,
    ...NO_SIGNAL,
    error,
  };
}

/**
 * Scans one file: header, LibriTTS ids and transcripts, and (full analysis) signal statistics.
 * Never throws: every failure becomes the result's `error`.
 */
export function analyzeFile(root: string, file: DiscoveredFile, analysis: Analysis, state: AnalyzerState): FileResult {
  const abs = path.join(root, file.rel);
  const result = blankResult(file.rel);
  const ids: LibriTTSIds = result;
  let target = abs;
  if (file.link) {
    try {
      target = fs.realpathSync(abs);
    } catch (err) {
      result.error = ioError(err);
      return result;
    }
    if (!isInside(root, target)) {
      result.error = { code: 'OUTSIDE_ROOT', detail: 'symlink leads outside the scanned directory; not read' };
      return result;
    }
  }
  Object.assign(result, state.transcripts.read(abs, ids));

  let fd: number;
  try {
    // NOFOLLOW: a file swapped for a symlink after discovery is not followed out of the root.
    // NONBLOCK: a FIFO named *.wav must not hang the worker waiting for a writer.
    fd = fs.openSync(target, OPEN_FLAGS);
  } catch (err) {
    result.error = ioError(err);
    return result;
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) {
      result.error = { code: 'READ_ERROR', detail: 'not a regular file' };
      return result;
    }
    result.bytes = stat.size;
    const src = new FdSource(fd, stat.size, state.buffer);
    src.prefetch(0, analysis === 'full' ? state.buffer.length : HEADER_WINDOW);
    const header = readWavHeader(src);
    const { format, data } = header;
    if (format) {
      result.sample_rate = format.sampleRate;
      result.channels = format.channels;
      result.bits_per_sample = format.bitsPerSample;
      result.encoding = format.encoding;
    }
    if (format && data) {
      result.frames = data.frames;
      result.duration_s = Math.round((data.frames / format.sampleRate) * 1e6) / 1e6;
    }
    result.error = header.error;
    if (analysis === 'full' && format && data && (header.error === null || header.error.code === 'TRUNCATED')) {
      const acc = new SignalAccumulator(format);
      if (acc.decodable) {
        const chunk = Math.max(format.blockAlign, Math.floor(state.buffer.length / format.blockAlign) * format.blockAlign);
        for (let at = data.offset, end = data.offset + data.bytes; at < end; at += chunk) {
          const want = Math.min(chunk, end - at);
          const got = src.chunk(at, want);
          if (got.length < want) {
            // The file shrank while we read it: keep what we have and say so.
            result.error = { code: 'TRUNCATED', detail: 'file ended while its samples were read' };
            acc.push(got.subarray(0, got.length - (got.length % format.blockAlign)));
            break;
          }
          acc.push(got);
        }
        Object.assign(result, acc.result());
      }
    }
  } catch (err) {
    result.error = ioError(err);
  } finally {
    fs.closeSync(fd);
  }
  return result;
}
