import fs from 'node:fs';

/**
 * The WebAssembly SIMD kernel for 16-bit samples (kernels/int16-stats.wat): sum, minimum,
 * maximum and per-segment sums of squares, 8 samples per instruction. One instance per thread,
 * made on first use. Measured on the benchmark machine (bench/full.ts "kernel"): ~6× the
 * throughput of the JavaScript loop it replaces, which stays as the oracle and the fallback.
 */
export interface Int16Kernel {
  /**
   * Statistics of `n` samples at byte `ptr` of the kernel's memory, cut into segments of `first`
   * then `seg` samples. Returns the sums of squares of the segments (a view valid until the next
   * call) and the sum, minimum and maximum. At most MAX_SAMPLES samples and MAX_SEGMENTS segments.
   */
  run(ptr: number, n: number, first: number, seg: number): KernelPass;
  /** Index of the first of `n` samples at byte `ptr` with |x| > 32 (above −60 dBFS), or n. */
  firstLoud(ptr: number, n: number): number;
  /** Index of the last such sample, or -1. */
  lastLoud(ptr: number, n: number): number;
  /** The kernel's memory as bytes; the analyzer reads files into the first IO_BYTES of it. */
  readonly memory: ArrayBuffer;
}

export interface KernelPass {
  sum: number;
  min: number;
  max: number;
  segments: number;
  /** segments × sum of squares, from index 0. */
  squares: Float64Array;
}

/** Bytes at the start of the kernel's memory for reading files into (SAMPLE_CHUNK). */
export const IO_BYTES = 1 << 20;
/** Where samples that arrive from elsewhere are copied to, and how many bytes fit. */
export const COPY_AT = IO_BYTES;
export const COPY_BYTES = 256 << 10;
const OUT_AT = COPY_AT + COPY_BYTES;
/** f64 slots after sum, min, max: segments per call (64 KiB of results). */
export const MAX_SEGMENTS = (65_536 - 24) / 8;
/** Samples per call: keeps every sum of squares an exact integer (< 2^51). */
export const MAX_SAMPLES = 1 << 21;

let loaded: Int16Kernel | null | undefined;

/** This thread's kernel, or null where WebAssembly SIMD is not available (then JavaScript runs). */
export function int16Kernel(): Int16Kernel | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  try {
    const bytes = fs.readFileSync(new URL('./kernels/int16-stats.wasm', import.meta.url));
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    const memory = instance.exports.memory as WebAssembly.Memory;
    const stats16 = instance.exports.stats16 as (ptr: number, n: number, first: number, seg: number, out: number) => number;
    // The memory has a fixed size (min = max pages), so its ArrayBuffer is never replaced and
    // these views stay valid.
    const out = new Float64Array(memory.buffer, OUT_AT, 3 + MAX_SEGMENTS);
    const squares = out.subarray(3);
    const firstLoud = instance.exports.firstLoud as (ptr: number, n: number) => number;
    const lastLoud = instance.exports.lastLoud as (ptr: number, n: number) => number;
    const pass: KernelPass = { sum: 0, min: 0, max: 0, segments: 0, squares };
    loaded = {
      memory: memory.buffer,
      firstLoud,
      lastLoud,
      run(ptr, n, first, seg) {
        pass.segments = stats16(ptr, n, first, seg, OUT_AT);
        pass.sum = out[0]!;
        pass.min = out[1]!;
        pass.max = out[2]!;
        return pass;
      },
    };
  } catch {
    loaded = null; // no SIMD (or no file): the JavaScript loops
  }
  return loaded;
}

/** A buffer of `size` bytes (≤ IO_BYTES) for reading samples into: inside the kernel's memory when there is one, so they are never copied. */
export function sampleBuffer(size: number): Buffer {
  const k = int16Kernel();
  return k && size <= IO_BYTES ? Buffer.from(k.memory, 0, size) : Buffer.alloc(size);
}
