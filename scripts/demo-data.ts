// `npm run demo-data [DIR]`: writes a small LibriTTS-like tree (real WAVs made with wavefile,
// transcripts, chapter .trans.tsv, speakers.tsv, three deliberately broken files) to scan right away.
import fs from 'node:fs';
import path from 'node:path';
import { makeLibriTTSTree } from '../test/helpers/libritts-tree.ts';

/** Marks a folder this script wrote: only such a folder (or an empty one) is replaced. */
const MARK = '.voice-library-demo';

const USAGE = 'Usage: npm run demo-data [DIR]   (default data/demo-libritts)\nWrites a small LibriTTS-like tree to DIR, replacing only a tree this script wrote before.\n';
const arg = process.argv[2];
if (arg === '--help' || arg === '-h') {
  process.stdout.write(USAGE);
  process.exit(0);
}
// An option it does not know is a slip, not a folder to write into.
if (arg?.startsWith('-') || process.argv.length > 3) {
  process.stderr.write(`Unknown argument ${JSON.stringify(arg?.startsWith('-') ? arg : process.argv[3])}.\n${USAGE}`);
  process.exit(2);
}
const dir = path.resolve(arg ?? 'data/demo-libritts');
if (fs.existsSync(dir)) {
  // A slip of the argument (a real dataset's path) must not wipe it.
  const entries = fs.readdirSync(dir);
  if (entries.length && !entries.includes(MARK)) {
    process.stderr.write(`${dir} exists and is not a demo tree this script wrote (no ${MARK} in it): not replacing it. Name an empty or new folder.\n`);
    process.exit(1);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}
const tree = makeLibriTTSTree({
  root: dir,
  subsets: { 'dev-clean': 3, 'test-clean': 2 },
  chaptersPerSpeaker: 2,
  utterancesPerChapter: 4,
  clipDurations: [1.2, 2.5, 3.7, 6.1, 9.4],
});
fs.writeFileSync(path.join(dir, MARK), 'Written by `npm run demo-data`; running it again replaces this folder.\n');
const count = tree.files.length + tree.corrupt.size;
process.stdout.write(`Wrote ${count} WAV files (${tree.corrupt.size} deliberately broken) for ${tree.speakers.size} speakers to ${dir}\n`);
process.stdout.write(`Scan it:\n  curl -s -X POST http://127.0.0.1:8006/api/voice-library/scan-libritts -H 'Content-Type: application/json' -d '{"libritts_path": "${dir}"}'\n`);
