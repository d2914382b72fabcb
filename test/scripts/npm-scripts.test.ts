import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { freePort } from '../helpers/cluster-infra.ts';
import { tempDir } from '../helpers/libritts-tree.ts';

/** The package's scripts as the README runs them: `npm start` under a supervisor, `npm run demo-data [DIR]`. */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('npm run demo-data', () => {
  it('writes its tree, replaces a tree it wrote, and refuses any other folder that is not empty (a dataset named by a slip was wiped)', () => {
    const run = (dir: string) => spawnSync('npm', ['run', '--silent', 'demo-data', dir], { cwd: ROOT, encoding: 'utf8' });
    const dir = path.join(tempDir('vl-demo-'), 'demo');
    expect(run(dir).status).toBe(0);
    expect(fs.existsSync(path.join(dir, 'speakers.tsv'))).toBe(true);
    expect(run(dir).status).toBe(0); // its own tree: replaced
    const dataset = tempDir('vl-dataset-');
    fs.writeFileSync(path.join(dataset, 'keep.txt'), 'precious');
    const refused = run(dataset);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('not replacing it');
    expect(fs.readdirSync(dataset)).toEqual(['keep.txt']);
  }, 60_000);

  it('--help prints its usage and writes nothing; an unknown option is refused (`--help` wrote a tree to ./--help)', () => {
    const cwd = tempDir('vl-demo-cwd-');
    const script = path.join(ROOT, 'scripts/demo-data.ts');
    // From another folder, where a slip would write (tsx by its path: it is not installed there).
    const run = (arg: string) => spawnSync(path.join(ROOT, 'node_modules/.bin/tsx'), [script, arg], { cwd, encoding: 'utf8' });
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run demo-data \[DIR\]/);
    const unknown = run('--fast');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('Unknown argument "--fast"');
    expect(fs.readdirSync(cwd)).toEqual([]);
  }, 60_000);
});

describe('npm start', () => {
  it('stops gracefully on a SIGTERM to npm itself, as a supervisor sends it (the server went on, orphaned)', async () => {
    const port = await freePort();
    const dir = tempDir('vl-start-');
    const proc = spawn('npm', ['start'], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port), DB_PATH: path.join(dir, 'v.db'), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let log = '';
    proc.stdout.on('data', (d) => (log += d));
    proc.stderr.on('data', (d) => (log += d));
    // Its own process group: whatever outlives npm (the bug) is killed with the group afterwards.
    onTestFinished(() => {
      try {
        process.kill(-proc.pid!, 'SIGKILL');
      } catch {
        // gone already
      }
    });
    const up = async () =>
      fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
    for (const deadline = Date.now() + 30_000; !(await up());) {
      if (Date.now() > deadline) throw new Error(`npm start did not come up:\n${log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
    const deadline = Date.now() + 5000;
    while ((await up()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await up()).toBe(false);
    expect(log).toContain('shutting down');
  }, 60_000);
});
