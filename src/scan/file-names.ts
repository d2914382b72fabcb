/**
 * File names are bytes; result paths are text. A name that is valid UTF-8 with no backslash is
 * reported as it is. Otherwise every byte that is not part of a valid UTF-8 sequence is written
 * `\xHH` and every backslash `\\`. The mapping is injective (two names never share a path, as
 * `caf\xe9.wav` and `caf\xe8.wav` did when both decoded to `caf\uFFFD.wav`) and reversible, so
 * the worker and the audio route open the exact bytes back from a result's path.
 */

const strict = new TextDecoder('utf-8', { fatal: true });

function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    strict.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0 when the byte there starts none. */
function sequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number) => i + k < b.length && (b[i + k]! & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    const c1 = b[i + 1]!;
    if (c === 0xe0 && c1 < 0xa0) return 0; // overlong
    if (c === 0xed && c1 >= 0xa0) return 0; // a UTF-16 surrogate
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const c1 = b[i + 1]!;
    if (c === 0xf0 && c1 < 0x90) return 0; // overlong
    if (c === 0xf4 && c1 >= 0x90) return 0; // past U+10FFFF
    return 4;
  }
  return 0;
}

const hex = (n: number): string => n.toString(16).padStart(2, '0');

/** The text form of a name's bytes (see the module comment). */
export function nameToText(bytes: Uint8Array): string {
  const s = (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)).toString('utf8');
  // Fast path: no replacement character means the bytes were valid (or held a literal U+FFFD).
  if (!s.includes('\\') && (!s.includes('\uFFFD') || isValidUtf8(bytes))) return s;
  let out = '';
  for (let i = 0; i < bytes.length;) {
    const n = sequenceLength(bytes, i);
    if (n === 0) {
      out += `\\x${hex(bytes[i]!)}`;
      i++;
    } else {
      const text = Buffer.from(bytes.buffer, bytes.byteOffset + i, n).toString('utf8');
      out += text === '\\' ? '\\\\' : text;
      i += n;
    }
  }
  return out;
}

/** Whether a text path needs `textToBytes` to reach its file (it holds an escape). */
export const isEscaped = (text: string): boolean => text.includes('\\');

/**
 * The bytes a text path names: the inverse of `nameToText`. Returns null for text that no name
 * maps to (a lone backslash, a bad escape, an escape of a byte that would have been valid UTF-8).
 */
export function textToBytes(text: string): Buffer | null {
  if (!isEscaped(text)) return Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  let run = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch !== '\\') {
      run += ch;
      continue;
    }
    const next = text[i + 1];
    if (next === '\\') {
      run += '\\';
      i++;
    } else if (next === 'x' && /^[0-9a-f]{2}$/.test(text.slice(i + 2, i + 4))) {
      parts.push(Buffer.from(run, 'utf8'), Buffer.from([parseInt(text.slice(i + 2, i + 4), 16)]));
      run = '';
      i += 3;
    } else {
      return null;
    }
  }
  parts.push(Buffer.from(run, 'utf8'));
  const bytes = Buffer.concat(parts);
  // Canonical form only: one name, one text.
  return nameToText(bytes) === text ? bytes : null;
}

/**
 * The name a text path stands for, as Unicode text (a backslash as itself), for formats that
 * name files in text (training manifests); null when the name's bytes are not UTF-8, which no
 * text can name.
 */
export function unicodeName(text: string): string | null {
  if (!isEscaped(text)) return text;
  const bytes = textToBytes(text);
  return bytes && isValidUtf8(bytes) ? bytes.toString('utf8') : null;
}

/** A path to hand to `fs`: a string when the text is the name, else the name's exact bytes. */
export function fsPath(root: string, rel: string): string | Buffer {
  const base = root.endsWith('/') ? root : `${root}/`;
  if (!isEscaped(rel)) return base + rel;
  const bytes = textToBytes(rel);
  if (!bytes) throw new Error(`not a canonical result path: ${JSON.stringify(rel)}`);
  return Buffer.concat([Buffer.from(base, 'utf8'), bytes]);
}
