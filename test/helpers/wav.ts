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
