import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fsPath } from '../../src/scan/file-names.ts';
import { eachFile } from '../../src/scan/folder-files.ts';
import { folderPlan } from '../../src/scan/plan.ts';
import { pathInScope, walkPacked, walkWavFiles } from '../../src/scan/walk.ts';
import { packedFolders } from '../helpers/packed-folders.ts';
import { tempDir } from '../helpers/libritts-tree.ts';

const list = (root: string, subsets?: string[]) => [...walkWavFiles(root, { dirs: subsets ?? [''], recursive: true })].sort((a, b) => (a.rel < b.rel ? -1 : 1));

describe('walkWavFiles', () => {
  it('finds .wav in any letter case, skips ._ files and other types', () => {
    const root = tempDir();
    fs.mkdirSync(path.join(root, 'a/b'), { recursive: true });
    for (const f of ['a/x.wav', 'a/b/y.WAV', 'a/b/z.Wav', 'a/._x.wav', 'a/notes.txt', 'a/b/q.wav.bak', 'a/.wav']) fs.writeFileSync(path.join(root, f), '');
    execFileSync('mkfifo', [path.join(root, 'a/fifo.wav')]);
    fs.mkdirSync(path.join(root, 'a/dir.wav'));
    expect(list(root).map((f) => f.rel)).toEqual(['a/b/y.WAV', 'a/b/z.Wav', 'a/x.wav']);
  });

  it('lists the files of a directory before its subdirectories (a chapter arrives together)', () => {
    const root = tempDir();
    fs.mkdirSync(path.join(root, 's/1/2'), { recursive: true });
    fs.mkdirSync(path.join(root, 's/1/3'), { recursive: true });
    for (const f of ['s/1/2/a.wav', 's/1/2/b.wav', 's/1/3/c.wav', 's/1/top.wav']) fs.writeFileSync(path.join(root, f), '');
    const order = [...walkWavFiles(root)].map((f) => f.rel);
    expect(order.indexOf('s/1/top.wav')).toBeLessThan(order.indexOf('s/1/2/a.wav'));
    expect(Math.abs(order.indexOf('s/1/2/a.wav') - order.indexOf('s/1/2/b.wav'))).toBe(1);
  });

  it('restricts to the named top-level subsets, and never follows one that is a symlink', () => {
    const root = tempDir();
    const outside = tempDir('vl-outside-');
    fs.mkdirSync(path.join(outside, '1', '2'), { recursive: true });
    fs.writeFileSync(path.join(outside, '1', '2', 'secret.wav'), '');
    for (const s of ['dev-clean', 'test-clean', 'train-other-500']) {
      fs.mkdirSync(path.join(root, s, '1', '2'), { recursive: true });
      fs.writeFileSync(path.join(root, s, '1', '2', '1_2_3_4.wav'), '');
    }
    fs.symlinkSync(outside, path.join(root, 'evil'));
    expect(list(root, ['dev-clean', 'train-other-500', 'evil', 'dev-clean', 'absent']).map((f) => f.rel)).toEqual(['dev-clean/1/2/1_2_3_4.wav', 'train-other-500/1/2/1_2_3_4.wav']);
    expect(list(root).some((f) => f.rel.includes('secret'))).toBe(false);
  });

  it('does not follow directory symlinks (no escape, no loop) and marks file symlinks', () => {
    const outside = tempDir();
    fs.writeFileSync(path.join(outside, 'secret.wav'), 'x');
    const root = tempDir();
    fs.mkdirSync(path.join(root, 'd'));
    fs.writeFileSync(path.join(root, 'd', 'real.wav'), '');
    fs.symlinkSync(outside, path.join(root, 'd', 'escape'));
    fs.symlinkSync(root, path.join(root, 'd', 'loop'));
    fs.symlinkSync('..', path.join(root, 'd', 'up'));
    fs.symlinkSync(path.join(outside, 'secret.wav'), path.join(root, 'd', 'link.wav'));
    expect(list(root)).toEqual([
      { rel: 'd/link.wav', link: true },
      { rel: 'd/real.wav', link: false },
    ]);
  });

  it('reads names as bytes: names that are not UTF-8 get distinct paths that open the same files', () => {
    const root = tempDir();
    const dir = Buffer.concat([Buffer.from(`${root}/sp\xeaker`, 'latin1')]);
    fs.mkdirSync(dir);
    for (const b of [0xe9, 0xe8]) fs.writeFileSync(Buffer.concat([dir, Buffer.from([0x2f, 0x63, 0x61, 0x66, b, 0x2e, 0x77, 0x61, 0x76])]), String(b));
    fs.writeFileSync(path.join(root, 'back\\slash.wav'), 'bs');
    const found = list(root);
    expect(found.map((f) => f.rel)).toEqual(['back\\\\slash.wav', 'sp\\xeaker/caf\\xe8.wav', 'sp\\xeaker/caf\\xe9.wav']);
    expect(found.map((f) => fs.readFileSync(fsPath(root, f.rel), 'utf8'))).toEqual(['bs', String(0xe8), String(0xe9)]);
  });

  it('packed by folder (as a scan sends files) and unpacked, gives the same files in the same order, either way of listing', () => {
    const root = tempDir();
    const outside = tempDir('vl-outside-');
    fs.writeFileSync(path.join(outside, 'secret.wav'), 'x');
    const dir = Buffer.from(`${root}/sp\xeaker`, 'latin1');
    fs.mkdirSync(dir);
    for (let b = 0xe0; b < 0xe8; b++) fs.writeFileSync(Buffer.concat([dir, Buffer.from([0x2f, 0x63, 0x61, 0x66, b, 0x2e, 0x77, 0x61, 0x76])]), '');
    fs.mkdirSync(path.join(root, 's/1/2'), { recursive: true });
    for (let i = 0; i < 9; i++) fs.writeFileSync(path.join(root, 's/1/2', `1_2_${i}_0.wav`), '');
    fs.writeFileSync(path.join(root, 's/1/2/1_2.trans.tsv'), '');
    fs.writeFileSync(path.join(root, 'back\\slash.wav'), '');
    fs.symlinkSync(path.join(outside, 'secret.wav'), path.join(root, 's/1/2/link.wav'));
    fs.symlinkSync(path.join(outside, 'secret.wav'), path.join(root, 's/1/zz-link.wav'));
    fs.symlinkSync(outside, path.join(root, 's/escape'));
    for (const scope of [
      { dirs: [''], recursive: true },
      { dirs: ['s/1'], recursive: false },
      { dirs: [''], recursive: true, shard: { index: 1, count: 3 } },
    ]) {
      for (const io of [undefined, null]) {
        const expected = [...walkWavFiles(root, scope, { io })];
        expect(expected.length).toBeGreaterThan(0);
        for (const [max, message] of [
          [256, 256],
          [3, 4],
          [1, 1],
        ] as const) {
          const packed = packedFolders(root, { scope, max, message, io });
          expect(packed.every((f) => f.count <= max && f.count > 0)).toBe(true);
          expect(eachFile(packed)).toEqual(expected);
        }
      }
    }
    // Links are marked where they are, and a folder without one carries no marks.
    const all = packedFolders(root, { max: 4, message: 4 });
    expect(
      eachFile(all)
        .filter((f) => f.link)
        .map((f) => f.rel),
    ).toEqual(['s/1/zz-link.wav', 's/1/2/link.wav']);
    expect(all.filter((f) => f.dir.startsWith('sp')).every((f) => f.links === null)).toBe(true);
  });

  /** A tree whose folder `deep/d…/…` lies past PATH_MAX (4,096 bytes): no open of its full path can list it, as no user can. */
  function treeWithDeepFolder(): { root: string; unlisted: string } {
    const root = tempDir();
    fs.mkdirSync(path.join(root, 'ok'));
    fs.writeFileSync(path.join(root, 'ok', 'a.wav'), '');
    const name = 'd'.repeat(250);
    // Made one level at a time from its parent (a shell's relative cd): no full path that long can be made either.
    execFileSync('bash', ['-c', `cd "$1" && mkdir deep && cd deep && for i in $(seq 20); do mkdir ${name} && cd ${name} && touch x.wav; done`, '-', root]);
    // The first level whose path passes 4,095 bytes: its parent is listed (its WAV found), it is not.
    let rel = 'deep';
    while (Buffer.byteLength(`${root}/${rel}/${name}`) < 4096) rel += `/${name}`;
    return { root, unlisted: `${rel}/${name}/` };
  }

  it('reports a folder it cannot list (a path too long to open) as an item of its own, either way of listing, packed or not', () => {
    const { root, unlisted } = treeWithDeepFolder();
    for (const io of [undefined, null]) {
      const items = [...walkWavFiles(root, undefined, { io })];
      const failed = items.filter((f) => f.unlisted);
      expect(failed, `io ${io}`).toEqual([{ rel: unlisted, link: false, unlisted: { code: 'READ_ERROR', detail: 'cannot list folder (ENAMETOOLONG)' } }]);
      // Everything above it is found: its parent's WAV, and the shallow folder's.
      expect(items.map((f) => f.rel)).toContain('ok/a.wav');
      expect(items.map((f) => f.rel)).toContain(`${unlisted.slice(0, unlisted.slice(0, -1).lastIndexOf('/'))}/x.wav`);
      const packed = [...walkPacked(root, undefined, { io, max: 2 })].flat();
      expect(packed.filter((f) => !('names' in f))).toEqual(failed);
      // A sharded scope (the cluster's loose parts) reports it in exactly one shard.
      const shards = [0, 1, 2].map((index) => [...walkWavFiles(root, { dirs: [''], recursive: true, shard: { index, count: 3 } }, { io })].filter((f) => f.unlisted));
      expect(shards.flat()).toEqual(failed);
    }
  });

  it('pathInScope says of every row path whether the walk of a scope finds it: each part of a cluster plan, loose shards, subsets, an unlistable folder, a name that is not UTF-8', () => {
    const { root, unlisted } = treeWithDeepFolder();
    for (const rel of ['top.wav', 'dev-clean/loose.wav', 'dev-clean/84/1/a.wav', 'dev-clean/84/1/b.wav', 'dev-clean/85/2/c.wav', 'test-clean/7/3/d.wav', 'test-clean/e.wav']) {
      fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      fs.writeFileSync(path.join(root, rel), '');
    }
    for (let i = 0; i < 24; i++) fs.writeFileSync(path.join(root, `dev-clean/z${i}.wav`), '');
    fs.writeFileSync(Buffer.concat([Buffer.from(`${root}/dev-clean/caf`), Buffer.from([0xe9]), Buffer.from('.wav')]), '');
    const all = [...walkWavFiles(root)].map((f) => f.rel);
    expect(all).toContain(unlisted);
    expect(all).toContain('dev-clean/caf\\xe9.wav');
    const scopes = [
      { dirs: [''], recursive: true },
      { dirs: ['dev-clean', 'test-clean'], recursive: true },
      ...folderPlan(root, null).map((p) => p.scope),
      ...folderPlan(root, ['dev-clean']).map((p) => p.scope),
    ];
    for (const scope of scopes) {
      const walked = [...walkWavFiles(root, scope)].map((f) => f.rel).sort();
      expect(all.filter((p) => pathInScope(p, scope)).sort(), JSON.stringify(scope)).toEqual(walked);
    }
    // Every path is in exactly one part of the cluster plan.
    const parts = folderPlan(root, null);
    for (const p of all)
      expect(
        parts.filter((part) => pathInScope(p, part.scope)),
        p,
      ).toHaveLength(1);
  });

  it("reports a folder without read permission, and the root itself (./), either way of listing (as a user permissions bind: root's walk runs as nobody)", () => {
    const root = tempDir();
    fs.chmodSync(root, 0o755); // a user other than the owner must reach it
    fs.mkdirSync(path.join(root, 'locked/sub'), { recursive: true });
    fs.writeFileSync(path.join(root, 'locked/sub/a.wav'), '');
    fs.chmodSync(path.join(root, 'locked'), 0);
    try {
      const walks = walkAsUser([root, path.join(root, 'locked')]);
      const denied = { code: 'READ_ERROR', detail: 'cannot list folder (EACCES)' };
      expect(walks).toEqual([
        [[{ rel: 'locked/', link: false, unlisted: denied }], [{ rel: './', link: false, unlisted: denied }]],
        [[{ rel: 'locked/', link: false, unlisted: denied }], [{ rel: './', link: false, unlisted: denied }]],
      ]);
    } finally {
      fs.chmodSync(path.join(root, 'locked'), 0o755);
    }
  });
});

/**
 * walkWavFiles of each root, natively and the portable way ([native walks, portable walks]), as
 * a user whom permissions bind: this process when it is not root; else a child run as `nobody`
 * (root reads every folder whatever its mode).
 */
function walkAsUser(roots: string[]): unknown {
  const walks = (io: unknown) => roots.map((r) => [...walkWavFiles(r, undefined, { io: io as null | undefined })]);
  if (process.getuid?.() !== 0) return [walks(undefined), walks(null)];
  const script = `import { walkWavFiles } from ${JSON.stringify(new URL('../../src/scan/walk.ts', import.meta.url).href)};
const roots = ${JSON.stringify(roots)};
const walks = (io) => roots.map((r) => [...walkWavFiles(r, undefined, { io })]);
process.stdout.write(JSON.stringify([walks(undefined), walks(null)]));`;
  const home = tempDir('vl-nobody-');
  fs.chmodSync(home, 0o777);
  const out = execFileSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, HOME: home },
  });
  return JSON.parse(out);
}
