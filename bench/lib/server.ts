// A real service process for benchmarks: started on a free port, its RSS readable from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
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

export function startServer(env: Record<string, string>): Promise<BenchServer> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const logs: Record<string, unknown>[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start')), 30_000);
    proc.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (msg.msg === 'listening') {
        clearTimeout(timer);
        resolve({
          url: String(msg.url).replace(/\/$/, ''),
          proc,
          logs,
          rssMb: () => statusField(proc.pid!, 'VmRSS'),
          peakRssMb: () => statusField(proc.pid!, 'VmHWM'),
          stop: () =>
            new Promise((r) => {
              proc.once('exit', () => r());
              proc.kill('SIGTERM');
            }),
        });
      } else logs.push(msg);
    });
  });
}

export async function postScan(url: string, body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${url}/api/voice-library/scan-libritts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
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
