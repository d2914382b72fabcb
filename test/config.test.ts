import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

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
