import type { FileResult } from '../../src/domain/file-result.ts';
import type { TaskSnapshot } from '../../src/domain/task.ts';
import { openSqliteStores } from '../../src/store/sqlite/index.ts';
import { queuedSnapshot } from '../../src/tasks/local-queue.ts';
import { SCANNER_VERSION } from '../../src/scan/version.ts';
import { mulberry32 } from './speech.ts';

/** The most frequent words of English, in order: the head of the synthetic vocabulary. */
const FIRST_WORDS = [
  'the',
  'of',
  'and',
  'to',
  'a',
  'in',
  'that',
  'he',
  'was',
  'it',
  'his',
  'i',
  'with',
  'as',
  'had',
  'for',
  'you',
  'her',
  'not',
  'is',
  'at',
  'on',
  'but',
  'she',
  'be',
  'him',
  'by',
  'said',
  'which',
  'all',
  'from',
  'so',
  'they',
  'have',
  'were',
  'this',
  'one',
  'me',
  'my',
  'there',
  'no',
  'an',
  'we',
  'or',
  'would',
  'if',
  'when',
  'what',
  'them',
  'their',
  'morning',
  'water',
  'quiet',
  'reader',
  'voice',
];

const SYLLABLES = ['ka', 'lo', 'mi', 'ra', 'ten', 'sor', 'vel', 'da', 'nu', 'pe', 'ish', 'gar', 'tho', 'wen', 'bri', 'ul'];
/** A pronounceable, distinct word for a rank. */
const pseudoWord = (r: number): string => {
  let w = '';
  for (let x = r; x > 0 || !w; x = Math.floor(x / SYLLABLES.length)) w += SYLLABLES[x % SYLLABLES.length];
  return w;
};

/**
 * A completed full-analysis task of `rows` LibriTTS-like rows written straight into a SQLite
 * store: the size of LibriTTS (375k clips) without scanning 585 hours of audio. For the
 * benchmark of filtered pages and the memory test of exports. Seeded: the same rows every time.
 */
export async function writeSyntheticTask(dbPath: string, rows: number, opts: { root?: string; speakers?: number } = {}): Promise<{ taskId: string; root: string }> {
  const root = opts.root ?? '/data/LibriTTS';
  const stores = await openSqliteStores(dbPath);
  try {
    const rand = mulberry32(375);
    const nSpeakers = opts.speakers ?? 2456;
    // A vocabulary of 20,000 words with Zipf frequencies (rank r drawn with probability ∝ 1/r), as
    // in English text: "the" is in most transcripts, a word of rank 2000 in about one in 400.
    const VOCAB = 20_000;
    const words = Array.from({ length: VOCAB }, (_, r) => (r < FIRST_WORDS.length ? FIRST_WORDS[r]! : pseudoWord(r)));
    const cdf = new Float64Array(VOCAB);
    for (let r = 0, acc = 0; r < VOCAB; r++) cdf[r] = acc += 1 / (r + 1);
    const pick = (): string => {
      const x = rand() * cdf[VOCAB - 1]!;
      let lo = 0;
      let hi = VOCAB - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cdf[mid]! < x) lo = mid + 1;
        else hi = mid;
      }
      return words[lo]!;
    };
    const base = queuedSnapshot({ libritts_path: root, root, analysis: 'full' });
    const created = base.created_at;
    let snapshot: TaskSnapshot = { ...base, status: 'running', phase: 'processing', started_at: created, message: 'Scanning' };
    await stores.tasks.insertTask({ snapshot, root, reuse: 'none', scannerVersion: SCANNER_VERSION }, { id: 1, type: 'progress', snapshot });
    const id = snapshot.task_id;
    let failed = 0;
    let bytes = 0;
    const batch: FileResult[] = [];
    for (let i = 0; i < rows; i++) {
      const speaker = String(14 + Math.floor((i * nSpeakers) / rows) * 3);
      const chapter = String(1000 + (Math.floor(i / 40) % 900));
      const utt = `${speaker}_${chapter}_${String(i % 1000).padStart(6, '0')}_${String(i).padStart(6, '0')}`;
      const subset = i % 7 === 0 ? 'train-other-500' : i % 5 === 0 ? 'dev-clean' : 'train-clean-100';
      const frames = Math.round((0.5 + rand() * 19.5) * 24_000);
      const n = 4 + Math.floor(rand() * 14);
      const text = Array.from({ length: n }, pick).join(' ');
      const bad = rand() < 0.002;
      if (bad) failed++;
      bytes += frames * 2 + 44;
      batch.push({
        path: `${subset}/${speaker}/${chapter}/${utt}.wav`,
        subset,
        speaker_id: speaker,
        chapter_id: chapter,
        utterance_id: utt,
        text_normalized: bad ? null : `${text[0]!.toUpperCase()}${text.slice(1)}.`,
        text_original: bad ? null : `${text[0]!.toUpperCase()}${text.slice(1)}.`,
        sample_rate: bad ? null : 24_000,
        channels: bad ? null : 1,
        bits_per_sample: bad ? null : 16,
        encoding: bad ? null : 'pcm_s16le',
        frames: bad ? null : frames,
        duration_s: bad ? null : Math.round((frames / 24_000) * 1e6) / 1e6,
        bytes: frames * 2 + 44,
        peak_dbfs: bad ? null : Math.round((-0.5 - rand() * 12) * 100) / 100,
        rms_dbfs: bad ? null : Math.round((-18 - rand() * 20) * 100) / 100,
        clipped_samples: bad ? null : rand() < 0.03 ? 1 + Math.floor(rand() * 50) : 0,
        dc_offset: bad ? null : Math.round((rand() - 0.5) * 1e-3 * 1e6) / 1e6,
        leading_silence_s: bad ? null : Math.round(rand() * 0.6 * 1000) / 1000,
        trailing_silence_s: bad ? null : Math.round(rand() * 0.8 * 1000) / 1000,
        snr_db: bad ? null : Math.round((8 + rand() * 50) * 10) / 10,
        error: bad ? { code: 'TRUNCATED', detail: 'the data chunk ends early' } : null,
      });
      if (batch.length === 5000 || i === rows - 1) {
        await stores.results.insertResults(id, batch);
        batch.length = 0;
      }
    }
    snapshot = {
      ...snapshot,
      status: 'completed',
      phase: null,
      progress: 100,
      message: 'Completed',
      files_total: rows,
      files_done: rows,
      files_failed: failed,
      bytes_done: bytes,
      finished_at: new Date().toISOString(),
    };
    await stores.events.append(id, 'completed', snapshot, { record: true });
    return { taskId: id, root };
  } finally {
    await stores.close();
  }
}
