import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { tempDir } from './helpers/libritts-tree.ts';

describe('config', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      HOST: '127.0.0.1',
      PORT: 8006,
      DB_PATH: './data/voice-library.db',
      SCAN_ROOTS: [],
      MAX_CONCURRENT_SCANS: 2,
      MAX_QUEUED_SCANS: 100,
      MAX_BODY_BYTES: 65536,
      SSE_PING_MS: 15000,
    });
    expect(c.API_TOKEN).toBeUndefined();
    expect(c.SCAN_WORKERS).toBeGreaterThanOrEqual(1);
  });

  it('names every bad variable', () => {
    expect(() => loadConfig({ PORT: 'eighty', MAX_CONCURRENT_SCANS: '0', SCAN_ROOTS: 'relative/dir' })).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/PORT[\s\S]*SCAN_ROOTS[\s\S]*MAX_CONCURRENT_SCANS|PORT[\s\S]*MAX_CONCURRENT_SCANS[\s\S]*SCAN_ROOTS/) }),
    );
  });

  it('refuses an API_TOKEN no bearer header could carry (spaces around it), and an SSE_PING_MS past the 15 s the contract promises', () => {
    for (const token of ['   ', ' x', 'x\t']) expect(() => loadConfig({ HOST: '0.0.0.0', API_TOKEN: token }), JSON.stringify(token)).toThrow(/API_TOKEN.*whitespace/);
    expect(() => loadConfig({ SSE_PING_MS: '15001' })).toThrow(/SSE_PING_MS/);
    expect(loadConfig({ SSE_PING_MS: '15000' }).SSE_PING_MS).toBe(15000);
  });

  it('refuses MAX_QUEUED_SCANS=0 in cluster mode, where it would refuse every scan', () => {
    const cluster = { REDIS_URL: 'redis://127.0.0.1:6379', DATABASE_URL: 'postgres://u@127.0.0.1/db' };
    expect(() => loadConfig({ ...cluster, MAX_QUEUED_SCANS: '0' })).toThrow(/MAX_QUEUED_SCANS=0/);
    expect(loadConfig({ ...cluster, MAX_QUEUED_SCANS: '1' }).MAX_QUEUED_SCANS).toBe(1);
    expect(loadConfig({ MAX_QUEUED_SCANS: '0' }).MAX_QUEUED_SCANS).toBe(0);
  });

  it('splits SCAN_ROOTS on ":"', () => {
    expect(loadConfig({ SCAN_ROOTS: '/data/a:/data/b' }).SCAN_ROOTS).toEqual(['/data/a', '/data/b']);
  });

  it('refuses a non-loopback HOST with neither SCAN_ROOTS nor API_TOKEN, like protected mode', () => {
    expect(() => loadConfig({ HOST: '0.0.0.0' })).toThrow(ConfigError);
    expect(() => loadConfig({ HOST: '0.0.0.0' })).toThrow(/SCAN_ROOTS.*API_TOKEN|ALLOW_OPEN_ACCESS/);
    expect(loadConfig({ HOST: '0.0.0.0', SCAN_ROOTS: '/data' }).HOST).toBe('0.0.0.0');
    expect(loadConfig({ HOST: '0.0.0.0', API_TOKEN: 'x' }).HOST).toBe('0.0.0.0');
    expect(loadConfig({ HOST: '0.0.0.0', ALLOW_OPEN_ACCESS: '1' }).HOST).toBe('0.0.0.0');
    expect(loadConfig({ HOST: '::1' }).HOST).toBe('::1');
  });

  it('the real process exits with the reason instead of listening', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
      cwd: fileURLToPath(new URL('../', import.meta.url)),
      env: { ...process.env, HOST: '0.0.0.0', PORT: '0' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(78);
    expect(r.stderr).toMatch(/Refusing to listen on non-loopback HOST=0\.0\.0\.0/);
  });
});

describe('a DB_PATH the store cannot use', () => {
  const start = (DB_PATH: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
      cwd: fileURLToPath(new URL('../', import.meta.url)),
      env: { ...process.env, PORT: '0', DB_PATH },
      encoding: 'utf8',
      timeout: 30_000,
    });

  it.each([
    ['a directory', (dir: string) => dir, /DB_PATH=.*: cannot open it/],
    [
      'a file that is not SQLite',
      (dir: string) => (fs.writeFileSync(path.join(dir, 'notes.txt'), 'just some text, not a database at all '.repeat(200)), path.join(dir, 'notes.txt')),
      /DB_PATH=.*: the file is not an SQLite database/,
    ],
    ['under a regular file', (dir: string) => (fs.writeFileSync(path.join(dir, 'file'), ''), path.join(dir, 'file', 'x.db')), /DB_PATH=.*file\/x\.db: /],
  ])('%s: exit 78 with a one-line reason, no stack trace', (_name, make, reason) => {
    const r = start(make(tempDir('vl-dbpath-')));
    expect(r.status).toBe(78);
    expect(r.stderr).toMatch(reason);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  // A read-only file needs a read-only filesystem (root ignores file modes): a tmpfs remounted ro.
  const mountable = process.getuid?.() === 0 && spawnSync('mount', ['--version']).status === 0;
  it.skipIf(!mountable)('a database on a read-only filesystem: exit 78, "it is read-only"', () => {
    const dir = tempDir('vl-ro-');
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir]);
    if (mount.status !== 0) throw new Error(`cannot mount a tmpfs for this test: ${mount.stderr}`);
    try {
      const db = new Database(path.join(dir, 'v.db'));
      db.exec('CREATE TABLE t (x)');
      db.close();
      expect(spawnSync('mount', ['-o', 'remount,ro', dir]).status).toBe(0);
      const r = start(path.join(dir, 'v.db'));
      expect(r.status).toBe(78);
      expect(r.stderr.trim()).toBe(`Invalid configuration: Cannot use DB_PATH=${path.join(dir, 'v.db')}: it is read-only`);
    } finally {
      spawnSync('umount', [dir]);
    }
  });
});
