import { clips, type Clip } from './clips.ts';
import { externalSort } from './external-sort.ts';
import { destroyAll, spool, writeTar } from './tar-spool.ts';
import { absolutePath } from './text.ts';
import type { ExportContext, ExportFormat } from './types.ts';

/** Characters a Kaldi id keeps; anything else becomes `_` (ids are whitespace-separated tokens). */
const idSafe = (s: string): string => s.replace(/[^A-Za-z0-9_.]/g, '_');

/**
 * Kaldi ids. The speaker is the reader id; an utterance id is the speaker, `-`, and the rest of the
 * LibriTTS id (`84_121123_000007_000001` → `84-121123_000007_000001`). `-` sorts below every
 * character an id keeps, so sorting the utterances also sorts their speakers, as Kaldi's
 * `validate_data_dir.sh` demands; with `_`, speaker 84's utterances would sort after speaker 840's.
 * A clip without a speaker is its own speaker (Kaldi: never one global speaker).
 */
export function kaldiIds(c: Clip): { utt: string; spk: string } {
  const reader = c.row.speaker_id;
  const spk = idSafe(reader ?? c.id);
  const rest = reader !== null && c.id.startsWith(`${reader}_`) ? c.id.slice(reader.length + 1) : c.id;
  return { utt: `${spk}-${idSafe(rest)}`, spk };
}

/**
 * One line per clip, `utt TAB spk TAB text TAB path`, sorted as a whole: the tab sorts below every
 * character of an id, so the order is the utterance ids' order. Ids and the cleaned text hold no
 * tab; the path, last, may.
 */
async function* lines(ctx: ExportContext): AsyncGenerator<string> {
  for await (const c of clips(ctx, { line: true })) {
    const { utt, spk } = kaldiIds(c);
    yield `${utt}\t${spk}\t${c.text}\t${absolutePath(ctx.root, c.path)}`;
  }
}

/** Splits a sorted line back into its four fields. */
function fields(line: string): [string, string, string, string] {
  const a = line.indexOf('\t');
  const b = line.indexOf('\t', a + 1);
  const c = line.indexOf('\t', b + 1);
  return [line.slice(0, a), line.slice(a + 1, b), line.slice(b + 1, c), line.slice(c + 1)];
}

/**
 * A Kaldi / ESPnet data directory as a tar: `wav.scp`, `text`, `utt2spk`, `spk2utt`, `spk2gender`
 * (`m`/`f`, speakers of known gender only), every file in C-locale byte order. The rows are
 * sorted on disk (external-sort.ts), so memory stays flat for any task size.
 */
export const kaldi: ExportFormat = {
  name: 'kaldi',
  contentType: 'application/x-tar',
  filename: (id) => `${id}-kaldi.tar`,
  async write(ctx, out) {
    const dir = await ctx.tempDir();
    const wavScp = spool(dir, 'wav.scp');
    const text = spool(dir, 'text');
    const utt2spk = spool(dir, 'utt2spk');
    const spk2utt = spool(dir, 'spk2utt');
    const spk2gender = spool(dir, 'spk2gender');
    try {
      // Genders by Kaldi speaker id.
      const genders = new Map([...ctx.speakers].map(([id, s]) => [idSafe(id), s.gender?.toLowerCase()]));
      // The current speaker's utterances: the sort groups them (see kaldiIds).
      const speaker = { spk: '', utts: [] as string[] };
      const endSpeaker = async () => {
        if (!speaker.utts.length) return;
        await spk2utt.write(`${speaker.spk} ${speaker.utts.join(' ')}\n`);
        const gender = genders.get(speaker.spk);
        if (gender === 'm' || gender === 'f') await spk2gender.write(`${speaker.spk} ${gender}\n`);
      };
      let last: string | null = null;
      for await (const line of externalSort(lines(ctx), dir)) {
        if (out.aborted) return;
        const [utt, spk, words, file] = fields(line);
        // Two files with one id (the same name in two folders) would break every Kaldi tool: the first stays.
        if (utt === last) continue;
        last = utt;
        await wavScp.write(`${utt} ${file}\n`);
        await text.write(`${utt} ${words}\n`);
        await utt2spk.write(`${utt} ${spk}\n`);
        if (speaker.spk !== spk) {
          await endSpeaker();
          Object.assign(speaker, { spk, utts: [] });
        }
        speaker.utts.push(utt);
      }
      await endSpeaker();
      const members = [await wavScp.end(), await text.end(), await utt2spk.end(), await spk2utt.end(), await spk2gender.end()];
      await writeTar(members, out);
    } finally {
      destroyAll([wavScp, text, utt2spk, spk2utt, spk2gender]);
    }
  },
};
