// A throwaway PostgreSQL server for tests and benches: initdb into a temp dir, run on 127.0.0.1 and a free port, stop always.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface PgServer {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  url: string;
  port: number;
  /** A URL for a fresh database of its own (one per test file or test). */
  database(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** Debian's binaries (the `postgresql` package, installed by .ci/run); the newest major version present. */
export function pgBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((d) => existsSync(join(root, d, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] ? join(root, majors[0], 'bin') : undefined;
}

/** PostgreSQL refuses to run as root: as root we run it as `postgres` (or `nobody`) in a dir that user owns. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const user of ['postgres', 'nobody']) {
    const u = spawnSync('id', ['-u', user], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', user], { encoding: 'utf8' });
    if (u.status === 0 && g.status === 0) return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
  }
  throw new Error('running as root and neither the postgres nor the nobody user exists to run PostgreSQL as');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  // Last resort when a test process exits without its after() hook: never leave a server behind.
  for (const c of running) c.kill('SIGKILL');
});

export async function startPgServer(opts: { fsync?: boolean } = {}): Promise<PgServer> {
  const bin = pgBinDir();
  if (!bin) throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql (apt-get install -y postgresql; .ci/run does)');
  const dir = mkdtempSync(join(tmpdir(), 'cgw-pg-'));
  const as = runAs();
  const data = join(dir, 'data');
  if (as) {
    chownSync(dir, as.uid, as.gid);
    chmodSync(dir, 0o700);
  }
  const ids = as ? { uid: as.uid, gid: as.gid } : {};
  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C'], {
    ...ids,
    cwd: dir,
    encoding: 'utf8',
  });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  }
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const settings = [
      `listen_addresses='127.0.0.1'`,
      `port=${port}`,
      `unix_socket_directories='${dir}'`,
      `max_connections=60`,
      `shared_buffers=16MB`,
      `fsync=${opts.fsync ? 'on' : 'off'}`,
      `synchronous_commit=${opts.fsync ? 'on' : 'off'}`,
      `full_page_writes=${opts.fsync ? 'on' : 'off'}`,
      `log_min_messages=fatal`,
    ];
    writeFileSync(join(data, 'postgresql.auto.conf'), settings.join('\n') + '\n');
    if (as) chownSync(join(data, 'postgresql.auto.conf'), as.uid, as.gid);
    const proc = spawn(join(bin, 'postgres'), ['-D', data], { ...ids, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    running.add(proc);
    let stderr = '';
    proc.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const ready = await waitReady(url, proc);
    if (!ready) {
      proc.kill('SIGKILL');
      await exited;
      running.delete(proc);
      if (attempt < 3 && /could not bind|already in use/i.test(stderr)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`postgres did not start: ${stderr}`);
    }
    let stopped: Promise<void> | undefined;
    return {
      url,
      port,
      database: async (name) => {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          await c.query(`CREATE DATABASE ${name}`);
        } finally {
          await c.end();
        }
        return `postgres://postgres@127.0.0.1:${port}/${name}`;
      },
      stop: () =>
        (stopped ??= (async () => {
          // SIGQUIT: immediate shutdown; nothing here needs a clean checkpoint.
          proc.kill('SIGQUIT');
          const t = setTimeout(() => proc.kill('SIGKILL'), 5_000);
          await exited;
          clearTimeout(t);
          running.delete(proc);
          rmSync(dir, { recursive: true, force: true });
        })()),
    };
  }
}

async function waitReady(url: string, proc: ChildProcess): Promise<boolean> {
  // Bounded by the server's own start-up, not by this machine's speed: we stop on its exit, or after 60 s.
  const until = Date.now() + 60_000;
  while (Date.now() < until && proc.exitCode === null) {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    try {
      await c.connect();
      await c.end();
      return true;
    } catch {
      await c.end().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return false;
}
