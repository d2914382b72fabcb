import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

/**
 * Throwaway Redis and PostgreSQL servers for the cluster tests: Debian's own binaries, started
 * on free ports with their data in temp dirs, never system services, never mocks. PostgreSQL
 * refuses to run as root, so as root it runs as the `postgres` user.
 */

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitUntil(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await ok()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not come up within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const canConnect = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

export interface RedisServer {
  url: string;
  port: number;
  /** Stops the server (its data is gone: no persistence). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
}

/** A redis-server on a free port, without persistence. */
export async function startRedis(): Promise<RedisServer> {
  const bin = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((b) => fs.existsSync(b));
  if (!bin) throw new Error('redis-server is not installed: apt-get install -y redis-server (bash .ci/run does)');
  const port = await freePort();
  let proc: ChildProcess | null = null;
  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    async start() {
      proc = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
      await waitUntil('redis-server', () => canConnect(port));
    },
    async stop() {
      if (!proc) return;
      const p = proc;
      proc = null;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await exited;
    },
  };
  await server.start();
  return server;
}

export interface PostgresServer {
  /** The superuser's URL (creates databases and roles). */
  adminUrl: string;
  port: number;
  /** A new database owned by a role that is not a superuser, as the service is meant to run. */
  freshDatabase(): Promise<string>;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes its data (~200 MB a cluster; they piled up in the temp dir). */
  dispose(): Promise<void>;
  /** SIGSTOP / SIGCONT to the server and every backend: a server that stops answering on open connections. */
  freeze(): void;
  thaw(): void;
}

function pgBin(name: string): string {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const p = path.join(root, v, 'bin', name);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`PostgreSQL's ${name} is not installed: apt-get install -y postgresql (bash .ci/run does)`);
}

/** A PostgreSQL cluster in a temp dir on a free port, trusting local TCP connections. */
export async function startPostgres(): Promise<PostgresServer> {
  const asRoot = process.getuid?.() === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vl-pg-'));
  const data = path.join(dir, 'data');
  const socket = path.join(dir, 'sock');
  fs.mkdirSync(socket);
  // As root, the server runs as the postgres user (spawned with its uid, so signals reach it).
  const user = asRoot
    ? { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) }
    : {};
  if (asRoot) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  const init = spawnSync(pgBin('initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8'], { encoding: 'utf8', cwd: dir, ...user });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  let proc: ChildProcess | null = null;
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  /** The postmaster and its children (backends, background workers). */
  const signalAll = (sig: 'STOP' | 'CONT') => {
    if (!proc?.pid) {
      if (sig === 'STOP') throw new Error('postgres is not running');
      return; // nothing to wake
    }
    spawnSync('pkill', [`-${sig}`, '-P', String(proc.pid)]);
    process.kill(proc.pid, `SIG${sig}`);
  };
  const server: PostgresServer = {
    adminUrl,
    port,
    async start() {
      proc = spawn(pgBin('postgres'), ['-D', data, '-p', String(port), '-k', socket, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=300'], {
        stdio: 'ignore',
        cwd: dir,
        ...user,
      });
      await waitUntil('postgres', async () => {
        const c = new pg.Client({ connectionString: adminUrl });
        await c.connect();
        await c.end();
        return true;
      });
    },
    async stop() {
      if (!proc) return;
      const p = proc;
      proc = null;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGINT'); // fast shutdown
      await exited;
    },
    async dispose() {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    freeze() {
      signalAll('STOP');
    },
    thaw() {
      signalAll('CONT');
    },
    async freshDatabase() {
      const name = `vl_${randomBytes(6).toString('hex')}`;
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`CREATE ROLE ${name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`);
        await c.query(`CREATE DATABASE ${name} OWNER ${name}`);
      } finally {
        await c.end();
      }
      return `postgres://${name}@127.0.0.1:${port}/${name}`;
    },
  };
  await server.start();
  return server;
}
