import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverWavFiles } from '../../src/scan/discover.ts';
import { tempDir } from '../helpers/libritts-tree.ts';

async function list(root: string, subsets?: string[]) {
  const out = [];
  for await (const f of discoverWavFiles(root, { subsets })) out.push(f);
  return out.sort((a, b) => a.rel.localeCompare(b.rel));
}

describe('discoverWavFiles', () => {
  it('finds .wav in any letter case, skips ._ files and other types', async () => {
    const root = tempDir();
    fs.mkdirSync(path.join(root, 'a/b'), { recursive: true });
    for (const f of ['a/x.wav', 'a/b/y.WAV', 'a/b/z.Wav', 'a/._x.wav', 'a/notes.txt', 'a/b/q.wav.bak']) fs.writeFileSync(path.join(root, f), '');
    expect((await list(root)).map((f) => f.rel)).toEqual(['a/b/y.WAV', 'a/b/z.Wav', 'a/x.wav']);
  });

  it('restricts to the named top-level subsets', async () => {
    const root = tempDir();
    for (const s of ['dev-clean', 'test-clean', 'train-other-500']) {
      fs.mkdirSync(path.join(root, s, '1', '2'), { recursive: true });
      fs.writeFileSync(path.join(root, s, '1', '2', '1_2_3_4.wav'), '');
    }
    expect((await list(root, ['dev-clean', 'train-other-500'])).map((f) => f.rel)).toEqual([
      'dev-clean/1/2/1_2_3_4.wav',
      'train-other-500/1/2/1_2_3_4.wav',
    ]);
  });

  it('does not follow directory symlinks (no escape, no loop) and marks file symlinks', async () => {
    const outside = tempDir();
    fs.writeFileSync(path.join(outside, 'secret.wav'), 'x');
    const root = tempDir();
    fs.mkdirSync(path.join(root, 'd'));
    fs.writeFileSync(path.join(root, 'd', 'real.wav'), '');
    fs.symlinkSync(outside, path.join(root, 'd', 'escape'));
    fs.symlinkSync(root, path.join(root, 'd', 'loop'));
    fs.symlinkSync(path.join(outside, 'secret.wav'), path.join(root, 'd', 'link.wav'));
    const found = await list(root);
    expect(found).toEqual([
      { rel: 'd/link.wav', link: true },
      { rel: 'd/real.wav', link: false },
    ]);
  });
});
