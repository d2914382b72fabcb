// A real service process for benchmarks: started on a free port, its RSS readable from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface BenchServer {
  url: string;
  proc: ChildProcess;
  /** Every JSON log line the server printed. */
  logs: Record<string, unknown>[];
  rssMb(): number;
  peakRssMb(): number;
  stop(): Promise<void>;
}

function statusField(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Starts `src/index.ts` on a free port (at LOG_LEVEL=warn unless told otherwise) and waits for /healthz. */
export async function startServer(env: Record<string, string>): Promise<BenchServer> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const logs: Record<string, unknown>[] = [];
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not a log line
    }
  });
  let exited: number | null = null;
  proc.once('exit', (code) => (exited = code ?? -1));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (exited !== null) throw new Error(`server exited with ${exited}`);
    if (i > 600) throw new Error('server did not start in 30 s');
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    proc,
    logs,
    rssMb: () => statusField(proc.pid!, 'VmRSS'),
    peakRssMb: () => statusField(proc.pid!, 'VmHWM'),
    stop: () =>
      new Promise((r) => {
        if (exited !== null) return r();
        proc.once('exit', () => r());
        proc.kill('SIGTERM');
      }),
  };
}

/** Starts a scan; it reads every file (`reuse: "none"`) unless the body says otherwise: a benchmark measures reading. */
export async function postScan(url: string, body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${url}/api/voice-library/scan-libritts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reuse: 'none', ...body }) });
  if (res.status !== 202) throw new Error(`scan refused: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { task_id: string }).task_id;
}

/** Polls until the task ends; returns its final snapshot. */
export async function waitTask(url: string, id: string): Promise<Record<string, unknown>> {
  for (;;) {
    const snap = (await (await fetch(`${url}/api/voice-library/scan-status/${id}`)).json()) as Record<string, unknown>;
    if (['completed', 'failed', 'cancelled'].includes(String(snap.status))) return snap;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Drops the page cache (root only) so that the next reads come from the disk. */
export function dropCaches(): boolean {
  try {
    fs.writeFileSync('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
}
