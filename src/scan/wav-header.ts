import type { FileError, FileErrorCode } from '../domain/file-result.ts';
import type { ByteSource } from './byte-source.ts';

export type { FileError, FileErrorCode } from '../domain/file-result.ts';

export type SampleKind = 'int' | 'uint8' | 'float' | 'mulaw' | 'alaw';

export interface WavFormat {
  container: 'RIFF' | 'RIFX' | 'RF64';
  littleEndian: boolean;
  /** The effective format tag (the sub-format for WAVE_FORMAT_EXTENSIBLE). */
  formatTag: number;
  sampleRate: number;
  channels: number;
  /** Valid bits where WAVE_FORMAT_EXTENSIBLE gives them, else the fmt chunk's bits. */
  bitsPerSample: number;
  /** Bytes each sample takes in the data chunk (blockAlign / channels). */
  bytesPerSample: number;
  blockAlign: number;
  /** null when the encoding is one this service does not decode. */
  kind: SampleKind | null;
  encoding: string;
}

export interface WavData {
  /** Byte offset of the first sample. */
  offset: number;
  /** Sample bytes actually present (whole frames only). */
  bytes: number;
  frames: number;
  /** What the header promised; null for a streamed header that promised nothing. */
  framesDeclared: number | null;
}

export interface WavHeader {
  format: WavFormat | null;
  data: WavData | null;
  error: FileError | null;
}

const UNKNOWN_SIZE = 0xffffffff;
const TAG_PCM = 0x0001;
const TAG_FLOAT = 0x0003;
const TAG_ALAW = 0x0006;
const TAG_MULAW = 0x0007;
const TAG_EXTENSIBLE = 0xfffe;

function fourcc(b: Uint8Array, at = 0): string {
  return String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
}

/**
 * A four-character code as a number, first byte highest: ids are compared as numbers, not as
 * strings made for each file (four strings a header, ~100 bytes of a header scan's row).
 */
function id32(b: Uint8Array, at = 0): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}
const idOf = (s: string): number => id32(Uint8Array.from(s, (c) => c.charCodeAt(0)));
const RIFF = idOf('RIFF');
const RIFX = idOf('RIFX');
const RF64 = idOf('RF64');
const BW64 = idOf('BW64');
const WAVE = idOf('WAVE');
const DS64 = idOf('ds64');
const FMT = idOf('fmt ');
const DATA = idOf('data');

/** Whether 4 bytes can be a chunk id: printable ASCII, as every registered id is. */
function looksLikeChunkId(b: Uint8Array): boolean {
  if (b.length < 4) return false;
  for (let i = 0; i < 4; i++) if (b[i]! < 0x20 || b[i]! > 0x7e) return false;
  return true;
}

function u16(b: Uint8Array, at: number, le: boolean): number {
  return le ? b[at]! | (b[at + 1]! << 8) : (b[at]! << 8) | b[at + 1]!;
}

function u32(b: Uint8Array, at: number, le: boolean): number {
  return le ? (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000 : ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) + b[at]! * 0x1000000;
}

/** 64-bit little-endian size as a JS number (exact below 2^53, which any real file is). */
function u64le(b: Uint8Array, at: number): number {
  return u32(b, at, true) + u32(b, at + 4, true) * 0x100000000;
}

const fail = (code: FileErrorCode, detail: string, format: WavFormat | null = null): WavHeader => ({
  format,
  data: null,
  error: { code, detail },
});

type Encoding = { kind: SampleKind | null; encoding: string };

/**
 * Answers of encodingOf by tag, sample size and byte order, made once each: a header scan asked
 * the same few for every file, and made a new string and object each time.
 */
const encodings = new Map<number, Encoding>();

function encodingOf(tag: number, bytesPerSample: number, le: boolean): Encoding {
  // A tag fits 16 bits, and so does a sample size (blockAlign is 16 bits): the key is unique.
  const key = (tag * 0x10000 + bytesPerSample) * 2 + (le ? 1 : 0);
  let e = encodings.get(key);
  if (!e) {
    if (encodings.size >= 1024) encodings.clear(); // hostile files may ask for thousands
    encodings.set(key, (e = makeEncoding(tag, bytesPerSample, le)));
  }
  return e;
}

function makeEncoding(tag: number, bytesPerSample: number, le: boolean): Encoding {
  const endian = le ? 'le' : 'be';
  switch (tag) {
    case TAG_PCM:
      if (bytesPerSample === 1) return { kind: 'uint8', encoding: 'pcm_u8' };
      if (bytesPerSample <= 8) return { kind: 'int', encoding: `pcm_s${bytesPerSample * 8}${endian}` };
      return { kind: null, encoding: `pcm_s${bytesPerSample * 8}${endian}` };
    case TAG_FLOAT:
      if (bytesPerSample === 4 || bytesPerSample === 8) return { kind: 'float', encoding: `pcm_f${bytesPerSample * 8}${endian}` };
      return { kind: null, encoding: `pcm_f${bytesPerSample * 8}${endian}` };
    case TAG_ALAW:
      return { kind: bytesPerSample === 1 ? 'alaw' : null, encoding: 'pcm_alaw' };
    case TAG_MULAW:
      return { kind: bytesPerSample === 1 ? 'mulaw' : null, encoding: 'pcm_mulaw' };
    default:
      return { kind: null, encoding: `format_0x${tag.toString(16).padStart(4, '0')}` };
  }
}

function parseFmt(body: Uint8Array, chunkSize: number, container: WavFormat['container'], le: boolean): WavFormat | FileError {
  if (chunkSize < 14 || body.length < 14) return { code: 'INVALID_FORMAT', detail: `fmt chunk too short (${chunkSize} bytes)` };
  let formatTag = u16(body, 0, le);
  const channels = u16(body, 2, le);
  const sampleRate = u32(body, 4, le);
  const blockAlign = u16(body, 12, le);
  const bits = body.length >= 16 ? u16(body, 14, le) : 8 * Math.floor(blockAlign / Math.max(1, channels));
  let validBits = bits;
  if (formatTag === TAG_EXTENSIBLE) {
    if (body.length < 40) return { code: 'INVALID_FORMAT', detail: 'WAVE_FORMAT_EXTENSIBLE fmt chunk shorter than 40 bytes' };
    const declaredValid = u16(body, 18, le);
    if (declaredValid > 0 && declaredValid <= bits) validBits = declaredValid;
    formatTag = u32(body, 24, le) & 0xffff; // the sub-format GUID's first field holds the tag
  }
  if (channels === 0) return { code: 'INVALID_FORMAT', detail: 'fmt chunk declares 0 channels' };
  if (sampleRate === 0) return { code: 'INVALID_FORMAT', detail: 'fmt chunk declares a sample rate of 0' };
  if (blockAlign === 0) return { code: 'INVALID_FORMAT', detail: 'fmt chunk declares a block align of 0' };
  if (bits === 0) return { code: 'INVALID_FORMAT', detail: 'fmt chunk declares 0 bits per sample' };
  if (blockAlign % channels !== 0) {
    return { code: 'INVALID_FORMAT', detail: `block align ${blockAlign} is not a multiple of ${channels} channels` };
  }
  const bytesPerSample = blockAlign / channels;
  if (bytesPerSample * 8 < bits) {
    return { code: 'INVALID_FORMAT', detail: `block align ${blockAlign} is too small for ${channels} × ${bits}-bit samples` };
  }
  const { kind, encoding } = encodingOf(formatTag, bytesPerSample, le);
  return { container, littleEndian: le, formatTag, sampleRate, channels, bitsPerSample: validBits, bytesPerSample, blockAlign, kind, encoding };
}

/**
 * Walks a RIFF/RIFX/RF64 WAVE file's chunks and reports its format and where its samples are.
 * Reads only chunk headers and the fmt/ds64 bodies, so nothing it allocates depends on the sizes
 * a header claims. Never throws on malformed input: problems come back as `error`.
 */
export function readWavHeader(src: ByteSource): WavHeader {
  const size = src.size;
  if (size === 0) return fail('TRUNCATED', 'file is empty');
  const head = src.read(0, 12);
  if (head.length < 4) return fail('NOT_RIFF_WAVE', 'file is too short to be a WAV file');
  const magic = id32(head);
  let container: WavFormat['container'];
  let le = true;
  if (magic === RIFF) container = 'RIFF';
  else if (magic === RIFX) {
    container = 'RIFX';
    le = false;
  } else if (magic === RF64 || magic === BW64) container = 'RF64';
  else return fail('NOT_RIFF_WAVE', 'no RIFF/RIFX/RF64 signature');
  if (head.length < 12) return fail('TRUNCATED', 'file ends inside the RIFF header');
  if (id32(head, 8) !== WAVE) return fail('NOT_RIFF_WAVE', `RIFF form type is '${fourcc(head, 8).replace(/[^\x20-\x7e]/g, '?')}', not WAVE`);

  let ds64DataSize: number | null = null;
  let format: WavFormat | null = null;
  let dataOffset = -1;
  let dataDeclared: number | null = null;
  let offset = 12;
  // No cap on the number of chunks: each step moves at least 8 bytes on, so the walk ends within
  // size / 8 steps, and a file with thousands of small chunks before its samples is still a WAV.
  for (;;) {
    if (offset >= size) break;
    const ch = src.read(offset, 8);
    if (ch.length < 8) {
      if (format && dataOffset >= 0) break;
      return fail('TRUNCATED', `file ends inside a chunk header at byte ${offset}`, format);
    }
    const id = id32(ch);
    const chunkSize = u32(ch, 4, le);
    const bodyAt = offset + 8;
    if (id === DS64 && container === 'RF64') {
      const body = src.read(bodyAt, 28);
      if (body.length < 24) return fail('TRUNCATED', 'file ends inside the ds64 chunk');
      ds64DataSize = u64le(body, 8);
    } else if (id === FMT) {
      const body = src.read(bodyAt, Math.min(chunkSize, 64));
      if (body.length < Math.min(chunkSize, 16)) return fail('TRUNCATED', 'file ends inside the fmt chunk');
      const parsed = parseFmt(body, chunkSize, container, le);
      if ('code' in parsed) return fail(parsed.code, parsed.detail);
      format = parsed;
    } else if (id === DATA && dataOffset < 0) {
      dataOffset = bodyAt;
      if (container === 'RF64' && chunkSize === UNKNOWN_SIZE) dataDeclared = ds64DataSize;
      else if (chunkSize === UNKNOWN_SIZE)
        dataDeclared = null; // streamed: "until end of file"
      else dataDeclared = chunkSize;
      if (format) break;
      if (dataDeclared === null) break;
    }
    // A chunk claiming more than the file holds simply ends the walk; nothing is allocated for it.
    const bodySize = id === DATA && dataDeclared !== null && chunkSize === UNKNOWN_SIZE ? dataDeclared : chunkSize;
    offset = bodyAt + bodySize + (bodySize & 1);
    // Some writers leave out the pad byte after an odd-sized chunk. When the padded position
    // holds no chunk id and the unpadded one does, follow the writer, not the letter of RIFF.
    if (bodySize & 1 && offset < size && !looksLikeChunkId(src.read(offset, 4)) && looksLikeChunkId(src.read(offset - 1, 4))) offset--;
  }

  if (!format) return fail(dataOffset >= 0 ? 'INVALID_FORMAT' : 'TRUNCATED', dataOffset >= 0 ? 'no fmt chunk before the samples' : 'no fmt chunk found');
  if (dataOffset < 0) return fail('TRUNCATED', 'file ends before the data chunk', format);

  const available = Math.max(0, size - dataOffset);
  const presentBytes = dataDeclared === null ? available : Math.min(dataDeclared, available);
  const frames = Math.floor(presentBytes / format.blockAlign);
  const framesDeclared = dataDeclared === null ? null : Math.floor(dataDeclared / format.blockAlign);
  const data: WavData = { offset: dataOffset, bytes: frames * format.blockAlign, frames, framesDeclared };
  if (framesDeclared !== null && framesDeclared > frames) {
    return { format, data, error: { code: 'TRUNCATED', detail: `header declares ${framesDeclared} frames, file holds ${frames}` } };
  }
  if (format.kind === null) {
    return { format, data, error: { code: 'UNSUPPORTED_ENCODING', detail: `cannot decode ${format.encoding}` } };
  }
  return { format, data, error: null };
}
