import { execSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startChildServer, type ChildServer } from '../helpers/child-server.ts';
import { makeLibriTTSTree, tempDir } from '../helpers/libritts-tree.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = path.join(ROOT, 'scripts/test_api.sh');
const STEPS = ['health', 'submit', 'events', 'status', 'results', 'speakers', 'cancel', 'errors'];
const JQ_INSTALL = 'apt-get update && apt-get install -y jq';

/** The script needs jq: installs it when running as root (as the browser tests do Chromium), else fails naming the command. */
function ensureJq(): void {
  const has = () => spawnSync('jq', ['--version']).status === 0;
  if (has()) return;
  if (process.getuid?.() === 0) {
    execSync(JQ_INSTALL, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 300_000 });
    if (has()) return;
  }
  throw new Error(`jq is missing; scripts/test_api.sh needs it. Install it with: sudo ${JQ_INSTALL}`);
}

interface Run {
  code: number | null;
  out: string;
}

/** Runs `bash scripts/test_api.sh …` and returns its exit code and its stdout and stderr together. */
function runScript(args: string[], env: Record<string, string>, timeoutMs = 90_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    // No API_TOKEN, SSE_TIMEOUT… from the environment of whoever runs the tests.
    const proc = spawn('bash', [SCRIPT, ...args], {
      cwd: ROOT,
      env: { ...process.env, API_TOKEN: '', SSE_TIMEOUT: '', CURL_TIMEOUT: '', POLL_TIMEOUT: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.once('error', reject);
    proc.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** The real service as a child process on a temp database; stopped when the test ends. */
async function realServer(env: Record<string, string> = {}): Promise<ChildServer> {
  const dir = tempDir('vl-test-api-');
  // Single-process mode whatever the environment says; one scan at a time on one thread (a light
  // load on a shared machine, and a queue the script's cancel step can catch a scan in).
  const server = await startChildServer({
    DB_PATH: path.join(dir, 'v.db'),
    REDIS_URL: '',
    DATABASE_URL: '',
    API_TOKEN: '',
    SCAN_WORKERS: '1',
    MAX_CONCURRENT_SCANS: '1',
    ...env,
  });
  onTestFinished(async () => {
    if (server.proc.exitCode === null && server.proc.signalCode === null) {
      server.proc.kill('SIGTERM');
      const timer = setTimeout(() => server.proc.kill('SIGKILL'), 6000);
      await server.exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return server;
}

function smallTree(): string {
  const tree = makeLibriTTSTree({ subsets: { 'dev-clean': 2, 'test-clean': 1 }, chaptersPerSpeaker: 2, utterancesPerChapter: 3, clipDurations: [0.5, 1.2] });
  onTestFinished(tree.cleanup);
  return tree.root;
}

function expectEveryStepOk(out: string): void {
  STEPS.forEach((name, i) => expect(out).toMatch(new RegExp(`\\[${i + 1}/${STEPS.length}\\] ${name}\\s+ok`)));
  expect(out).toContain(`all ${STEPS.length} steps passed`);
  expect(out).not.toMatch(/\bFAIL\b/);
}

type Breakage = 'post-200' | 'post-no-task-id' | 'sse-error-event' | 'sse-no-terminal';

/**
 * A server that keeps the contract up to one step and breaks it there: healthz is fine; the POST
 * answers 200 or forgets task_id; or the event stream sends an `error` event, or never ends.
 */
async function brokenServer(breakage: Breakage): Promise<string> {
  const id = '6f1c3b9e-0d7a-4b8e-9a51-2c4d5e6f7a8b';
  const base = '/api/voice-library';
  const snapshot = { task_id: id, status: 'running', phase: 'processing', progress: 10 };
  const server = http.createServer((req, res) => {
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/healthz') return json(200, { status: 'ok', queued: 0, running: 0 });
    if (req.method === 'POST' && req.url === `${base}/scan-libritts`) {
      req.resume();
      const accepted = {
        task_id: id,
        status: 'accepted',
        message: 'Scan started in background. Use task_id to check status.',
        status_url: `${base}/scan-status/${id}`,
        events_url: `${base}/scan-events/${id}`,
        results_url: `${base}/scan-results/${id}`,
      };
      const location = { Location: accepted.status_url };
      if (breakage === 'post-200') return json(200, accepted, location);
      if (breakage === 'post-no-task-id') return json(202, { ...accepted, task_id: undefined }, location);
      return json(202, accepted, location);
    }
    if (req.url?.startsWith(`${base}/scan-events/${id}`)) {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' });
      res.write(`retry: 2000\n\nevent: status\ndata: ${JSON.stringify(snapshot)}\nid: 1\n\n`);
      if (breakage === 'sse-error-event') {
        res.end(`event: error\ndata: ${JSON.stringify({ detail: 'boom' })}\nid: 2\n\n`);
        return;
      }
      // Never a terminal event: a ping now and then, until the client gives up.
      const ping = setInterval(() => res.write(': ping\n\n'), 200);
      res.once('close', () => clearInterval(ping));
      return;
    }
    json(404, { detail: 'not here', code: 'NOT_FOUND', issues: [] });
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onTestFinished(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('scripts/test_api.sh', () => {
  beforeAll(ensureJq);

  it('is executable', () => {
    expect(fs.statSync(SCRIPT).mode & 0o111).not.toBe(0);
  });

  it('walks the whole flow against the real server and exits 0', async () => {
    const server = await realServer();
    const dataset = smallTree();
    const run = await runScript([dataset], { BASE_URL: server.url });
    expect(run.out).toContain(`dataset ${dataset}`);
    expectEveryStepOk(run.out);
    expect(run.code, run.out).toBe(0);
  });

  it('passes with API_TOKEN set on the server and the script; the token never reaches the logs', async () => {
    const token = 'tok-en with spaces & symbols/=+';
    const server = await realServer({ API_TOKEN: token });
    const dataset = smallTree();
    const run = await runScript([dataset], { BASE_URL: server.url, API_TOKEN: token });
    expectEveryStepOk(run.out);
    expect(run.out).toContain('no token → 401 UNAUTHORIZED');
    expect(run.code, run.out).toBe(0);
    expect(server.logs.join('\n')).not.toContain('tok-en');

    // Without the token the same server fails the first /api step, and the script says why.
    const bare = await runScript([dataset], { BASE_URL: server.url });
    expect(bare.code).toBe(1);
    expect(bare.out).toMatch(/\[2\/8\] submit\s+FAIL expected HTTP 202; received HTTP 401/);
  });

  it.each([
    ['post-200', /\[2\/8\] submit\s+FAIL expected HTTP 202; received HTTP 200/],
    ['post-no-task-id', /\[2\/8\] submit\s+FAIL expected a task_id/],
    ['sse-error-event', /\[3\/8\] events\s+FAIL expected no event named 'error'/],
    ['sse-no-terminal', /\[3\/8\] events\s+FAIL expected a terminal event within SSE_TIMEOUT=2s/],
  ] as const)('exits non-zero at the first broken step: %s', async (breakage, failure) => {
    const url = await brokenServer(breakage);
    const started = Date.now();
    const run = await runScript(['/srv/datasets/LibriTTS'], { BASE_URL: url, SSE_TIMEOUT: '2' }, 30_000);
    expect(run.code, run.out).toBe(1);
    expect(run.out).toMatch(/\[1\/8\] health\s+ok/);
    expect(run.out).toMatch(failure);
    expect(run.out).toMatch(/FAILED at step \d \(\w+\)/);
    // Nothing after the failing step runs.
    expect(run.out).not.toMatch(/\[4\/8\]/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('exits 2 naming the install command when jq is missing', async () => {
    const bin = tempDir('vl-nojq-');
    onTestFinished(() => fs.rmSync(bin, { recursive: true, force: true }));
    for (const tool of ['bash', 'curl']) {
      const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      fs.symlinkSync(found, path.join(bin, tool));
    }
    const run = await runScript([], { PATH: bin });
    expect(run.code).toBe(2);
    expect(run.out).toContain('apt-get install -y jq');
  });

  it('stops at a server that does not answer, naming the health step', async () => {
    // A port that was just free: listen, note it, close.
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const dead = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const run = await runScript(['/srv/datasets/LibriTTS'], { BASE_URL: `http://127.0.0.1:${dead}` }, 30_000);
    expect(run.code).toBe(1);
    expect(run.out).toMatch(/\[1\/8\] health\s+FAIL expected an answer from GET/);
  });
});
