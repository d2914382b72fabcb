import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { folderPlan } from '../../src/scan/plan.ts';
import { walkWavFiles } from '../../src/scan/walk.ts';
import { tempDir } from '../helpers/libritts-tree.ts';

/** The cluster's plan (plan.ts folderPlan): parts that name each file of the tree exactly once. */

const filesOf = (root: string, scope: Parameters<typeof walkWavFiles>[1]) => [...walkWavFiles(root, scope)].map((f) => f.rel);

describe('folderPlan', () => {
  it("names every part apart and covers every file once, even for a subset called `loose` with speakers 0–7 (the shards' old names)", () => {
    const root = tempDir();
    for (let s = 0; s < 8; s++) {
      fs.mkdirSync(path.join(root, 'loose', String(s)), { recursive: true });
      fs.writeFileSync(path.join(root, 'loose', String(s), `${s}_1_000000_000000.wav`), '');
    }
    fs.mkdirSync(path.join(root, 'dev-clean', '84'), { recursive: true });
    fs.writeFileSync(path.join(root, 'dev-clean', '84', 'a.wav'), '');
    fs.writeFileSync(path.join(root, 'dev-clean', 'above.wav'), '');
    for (let i = 0; i < 24; i++) fs.writeFileSync(path.join(root, `top-${i}.wav`), '');
    for (const subsets of [null, ['loose', 'dev-clean']]) {
      const parts = folderPlan(root, subsets);
      expect(new Set(parts.map((p) => p.key)).size, JSON.stringify(subsets)).toBe(parts.length);
      const covered = parts.flatMap((p) => filesOf(root, p.scope)).sort();
      const all = filesOf(root, { dirs: subsets ?? [''], recursive: true }).sort();
      expect(covered).toEqual(all);
      expect(new Set(covered).size).toBe(covered.length);
    }
  });
});
