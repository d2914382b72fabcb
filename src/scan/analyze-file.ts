import fs from 'node:fs';
import type { Analysis, FileError, FileResult, RecordedFile } from '../domain/file-result.ts';
import { FdSource, type ByteSource } from './byte-source.ts';
import { fsPath } from './file-names.ts';
import { parseLibriTTSPath, type LibriTTSIds, type TranscriptReader } from './libritts.ts';
import { isRacy } from './racy.ts';
import { isOpened, openUnder, type OpenOutcome } from './safe-open.ts';
import { SignalAccumulator } from './signal-stats.ts';
import type { DiscoveredFile } from './types.ts';
import { readWavHeader, type WavHeader } from './wav-header.ts';

/** What a header-only read fetches up front: enough for any ordinary header in one syscall. */
export const HEADER_WINDOW = 4096;
/** Samples are read in chunks of about this size, whatever the file's size. */
export const SAMPLE_CHUNK = 1 << 20;

/** Per-thread state reused across files: one sample buffer, the transcript cache. */
export interface AnalyzerState {
  /** Best from int16-kernel.ts sampleBuffer(): then int16 samples are never copied. */
  buffer: Buffer;
  transcripts: TranscriptReader;
  /** 'js' runs the JavaScript sample loops instead of the WebAssembly kernel (the tests' oracle). */
  kernel?: 'wasm' | 'js';
}

function ioError(err: unknown): FileError {
  const code = (err as NodeJS.ErrnoException)?.code ?? 'EIO';
  return { code: 'READ_ERROR', detail: `cannot read file (${code})` };
}

/** A result with the ids its path gives and every measured field null. */
export function blankResult(rel: string, error: FileError | null = null): FileResult {
  const ids = parseLibriTTSPath(rel);
  // Spelled out, not spread: one object shape made at once (spreads cost ~0.4 µs a row in a
  // header scan, and the row's every later write), in the order the fields have always had.
  return {
    path: rel,
    subset: ids.subset,
    speaker_id: ids.speaker_id,
    chapter_id: ids.chapter_id,
    utterance_id: ids.utterance_id,
    text_normalized: null,
    text_original: null,
    sample_rate: null,
    channels: null,
    bits_per_sample: null,
    encoding: null,
    frames: null,
    duration_s: null,
    bytes: null,
    peak_dbfs: null,
    rms_dbfs: null,
    clipped_samples: null,
    dc_offset: null,
    leading_silence_s: null,
    trailing_silence_s: null,
    snr_db: null,
    error,
  };
}

/** The failed row of a folder the walk could not list (DiscoveredFile.unlisted): no ids, nothing read. */
export function unlistedFolderRow(rel: string, error: FileError): RecordedFile {
  const row: RecordedFile = blankResult(rel, error);
  row.subset = row.speaker_id = row.chapter_id = row.utterance_id = null;
  return row;
}

/**
 * Scans one file: header, LibriTTS ids and transcripts, and (full analysis) signal statistics.
 * `root` must be a real path (no symlink in it): every open is checked to lie under it.
 * Never throws: every failure becomes the result's `error`.
 */
export function analyzeFile(root: string, file: DiscoveredFile, analysis: Analysis, state: AnalyzerState): RecordedFile {
  // Every open goes through safe-open.ts: no symlink followed out of the root, no FIFO waited on.
  return analyzeOpened(root, file, analysis, state, openUnder(root, fsPath(root, file.rel), file.link));
}

/**
 * analyzeFile once the file is open (or failed to open, `opened` says why), by whichever of the
 * two safe ways it was opened (safe-open.ts, or relative to a checked directory: native-io.ts).
 * Closes the descriptor.
 */
export function analyzeOpened(root: string, file: DiscoveredFile, analysis: Analysis, state: AnalyzerState, opened: OpenOutcome): RecordedFile {
  const result: RecordedFile = blankResult(file.rel);
  const ids: LibriTTSIds = result;
  // A file that leads out of the root says nothing of itself, transcripts included.
  if (!isOpened(opened) && opened.code === 'OUTSIDE_ROOT') {
    result.error = opened;
    return result;
  }
  Object.assign(result, state.transcripts.read(root, file.rel, ids));
  if (!isOpened(opened)) {
    result.error = opened;
    return result;
  }
  const { fd, size } = opened;
  // What a rescan compares; a symlinked file is never reused (its target may change unseen), nor
  // one modified too recently to tell from a later write (racy.ts).
  result.mtime_ns = file.link || isRacy(opened.mtimeNs) ? null : String(opened.mtimeNs);
  try {
    result.bytes = size;
    const src = new FdSource(fd, size, state.buffer);
    src.prefetch(0, analysis === 'full' ? state.buffer.length : HEADER_WINDOW);
    const header = readWavHeader(src);
    putHeader(result, header);
    if (analysis === 'full' && header.format && header.data && (header.error === null || header.error.code === 'TRUNCATED')) {
      const { format, data } = header;
      const acc = new SignalAccumulator(format, { kernel: state.kernel });
      const hollow = acc.decodable ? mostlyHoles(fd, data.bytes) : null;
      if (hollow) {
        result.error = hollow;
        result.mtime_ns = null;
      } else if (acc.decodable) {
        const chunk = Math.max(format.blockAlign, Math.floor(state.buffer.length / format.blockAlign) * format.blockAlign);
        for (let at = data.offset, end = data.offset + data.bytes; at < end; at += chunk) {
          const want = Math.min(chunk, end - at);
          const got = src.chunk(at, want);
          if (got.length < want) {
            // The file shrank while we read it: keep what we have and say so, and read it again next time.
            result.error = { code: 'TRUNCATED', detail: 'file ended while its samples were read' };
            result.mtime_ns = null;
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
    result.mtime_ns = null; // an I/O error may pass: read this file again next time
  } finally {
    (opened.close ?? fs.closeSync)(fd);
  }
  return result;
}

/** Samples past which a file is checked for holes before they are read (mostlyHoles). */
const HOLES_CHECKED_FROM = 1 << 30;

/**
 * A file whose samples are nearly all holes (a sparse file: 16 TiB on ext4 cost nothing to make)
 * would hold a scan thread for hours reading zeros (~3 s a GiB): its samples are not read. It is
 * checked by the blocks the file has on disk, from 1 GiB of samples on: less than 1% of them
 * allocated is no recording. A filesystem that reports no blocks at all is not judged (blocks 0
 * is then no evidence: a real file with a header written has at least one).
 */
function mostlyHoles(fd: number, dataBytes: number): FileError | null {
  if (dataBytes < HOLES_CHECKED_FROM) return null;
  const { blocks } = fs.fstatSync(fd);
  if (blocks === 0 || blocks * 512 >= dataBytes / 100) return null;
  return { code: 'READ_ERROR', detail: `sparse file: ${dataBytes} bytes of samples on ${blocks * 512} bytes of disk; samples not read` };
}

/** The header's fields of a result. */
function putHeader(result: RecordedFile, header: WavHeader): void {
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
}

/**
 * The first bytes of a file, read without a descriptor to come back to (native-io.ts
 * readHeaders): reads past them are noted, not made.
 */
class WindowSource implements ByteSource {
  /** A read asked for bytes the window does not hold but the file does. */
  short = false;
  constructor(
    private readonly bytes: Uint8Array,
    readonly size: number,
  ) {}
  read(offset: number, length: number): Uint8Array {
    if (length <= 0 || offset >= this.size) return new Uint8Array(0);
    const end = Math.min(this.size, offset + length);
    if (end > this.bytes.length) {
      this.short = true;
      return new Uint8Array(0);
    }
    return this.bytes.subarray(offset, end);
  }
}

/**
 * A header-only scan of a regular file from its first bytes, size and recorded modification time
 * (racy.ts mtimeText), as analyzeOpened would give it; null when the header reaches past `window`
 * (the caller then scans the file the ordinary way).
 */
export function analyzeHeaderWindow(root: string, file: DiscoveredFile, window: Uint8Array, size: number, mtime: string | null, state: AnalyzerState): RecordedFile | null {
  const src = new WindowSource(window, size);
  const header = readWavHeader(src);
  if (src.short) return null;
  const result: RecordedFile = blankResult(file.rel);
  const t = state.transcripts.read(root, file.rel, result);
  result.text_normalized = t.text_normalized;
  result.text_original = t.text_original;
  result.sidecars = t.sidecars;
  result.mtime_ns = file.link ? null : mtime;
  result.bytes = size;
  putHeader(result, header);
  return result;
}
