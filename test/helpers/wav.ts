import wavefile from 'wavefile';

const { WaveFile } = wavefile;

export interface ToneOptions {
  sampleRate?: number;
  channels?: number;
  /** wavefile bit depth code: '8', '16', '24', '32', '32f', '64'. */
  bitDepth?: string;
  durationS?: number;
  /** Peak amplitude of the sine, 0..1. */
  amplitude?: number;
  frequency?: number;
  /** Seconds of digital silence before and after the tone. */
  leadS?: number;
  tailS?: number;
  /** Constant added to every sample (DC offset), in full-scale units. */
  dc?: number;
}

/** A real WAV file made with `wavefile`: a sine framed by optional silence. */
export function toneWav(o: ToneOptions = {}): Buffer {
  const sr = o.sampleRate ?? 24000;
  const ch = o.channels ?? 1;
  const depth = o.bitDepth ?? '16';
  const amp = o.amplitude ?? 0.5;
  const freq = o.frequency ?? 440;
  const lead = Math.round((o.leadS ?? 0) * sr);
  const tone = Math.round((o.durationS ?? 0.1) * sr);
  const tail = Math.round((o.tailS ?? 0) * sr);
  const frames = lead + tone + tail;
  const float = depth === '32f' || depth === '64';
  const full = float ? 1 : depth === '8' ? 128 : 2 ** (Number(depth) - 1);
  const channels: number[][] = [];
  for (let c = 0; c < ch; c++) {
    const data = new Array<number>(frames);
    for (let i = 0; i < frames; i++) {
      const inTone = i >= lead && i < lead + tone;
      const x = (inTone ? amp * Math.sin((2 * Math.PI * freq * (i - lead)) / sr) : 0) + (o.dc ?? 0);
      let v = float ? x : Math.round(x * full);
      if (!float) v = Math.max(-full, Math.min(full - 1, v));
      data[i] = depth === '8' ? v + 128 : v;
    }
    channels.push(data);
  }
  const wav = new WaveFile();
  wav.fromScratch(ch, sr, depth, ch === 1 ? channels[0]! : channels);
  return Buffer.from(wav.toBuffer());
}

/** Header facts as `wavefile` (the oracle) reads them. */
export function oracleHeader(bytes: Uint8Array): { sampleRate: number; channels: number; bitsPerSample: number; frames: number } {
  const wav = new WaveFile();
  wav.fromBuffer(bytes, false);
  const fmt = wav.fmt as { sampleRate: number; numChannels: number; bitsPerSample: number; blockAlign: number; validBitsPerSample?: number };
  const data = wav.data as { chunkSize: number };
  const valid = fmt.validBitsPerSample && fmt.validBitsPerSample > 0 ? fmt.validBitsPerSample : fmt.bitsPerSample;
  return { sampleRate: fmt.sampleRate, channels: fmt.numChannels, bitsPerSample: valid, frames: Math.floor(data.chunkSize / fmt.blockAlign) };
}

export { WaveFile };

export interface RawWavOptions {
  /** fmt tag: 1 PCM, 3 IEEE float, 6 a-law, 7 mu-law. */
  formatTag?: number;
  channels?: number;
  sampleRate?: number;
  bitsPerSample?: number;
  /** The sample bytes of the data chunk. */
  data: Uint8Array;
  /** Chunks written between fmt and data: [id, body]. Odd bodies get a pad byte unless `noPad`. */
  chunksBeforeData?: [string, Uint8Array][];
  noPad?: boolean;
}

/** A WAV built byte by byte, for shapes that no writer library produces (odd chunks, odd values). */
export function rawWav(o: RawWavOptions): Buffer {
  const channels = o.channels ?? 1;
  const bits = o.bitsPerSample ?? 16;
  const rate = o.sampleRate ?? 24000;
  const blockAlign = channels * Math.ceil(bits / 8);
  const fmt = Buffer.alloc(16);
  fmt.writeUInt16LE(o.formatTag ?? 1, 0);
  fmt.writeUInt16LE(channels, 2);
  fmt.writeUInt32LE(rate, 4);
  fmt.writeUInt32LE(rate * blockAlign, 8);
  fmt.writeUInt16LE(blockAlign, 12);
  fmt.writeUInt16LE(bits, 14);
  const chunk = (id: string, body: Uint8Array, pad: boolean) => {
    const head = Buffer.alloc(8);
    head.write(id, 0, 'latin1');
    head.writeUInt32LE(body.length, 4);
    return Buffer.concat([head, body, pad && body.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
  };
  const parts = [chunk('fmt ', fmt, true), ...(o.chunksBeforeData ?? []).map(([id, body]) => chunk(id, body, !o.noPad)), chunk('data', o.data, true)];
  const body = Buffer.concat(parts);
  const riff = Buffer.alloc(12);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(4 + body.length, 4);
  riff.write('WAVE', 8, 'latin1');
  return Buffer.concat([riff, body]);
}

/** IEEE float32 little-endian sample bytes. */
export const float32 = (samples: number[]): Buffer => Buffer.from(new Float32Array(samples).buffer);
