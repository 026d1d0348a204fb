// A throwaway PostgreSQL cluster for tests that need several connections or several processes.
//
// The cluster lives in a fresh temp dir, listens only on 127.0.0.1 on a free port, trusts every
// local connection and is tuned for speed (fsync off), never for durability. PostgreSQL refuses
// to run as root, so when we are root every server command runs as the `postgres` OS user, which
// then owns the temp dir.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { appendFile, chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import pg from 'pg';

export interface PgCluster {
  /** Connection URL of the `postgres` database, as the `postgres` superuser. */
  url: string;
  port: number;
  /** The cluster's data directory (inside the temp dir that `stop()` removes). */
  dataDir: string;
  /** Stops the server (immediate mode) and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Creates a fresh database and returns a connection URL for it. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server as an operator would (fast shutdown), keeping its data: an outage. */
  pause(): Promise<void>;
  /** Starts a paused server again, on the same port. */
  resume(): Promise<void>;
}

/** Under CI a missing PostgreSQL is a failure, never a skip. */
export const requirePg: boolean = process.env.CI === 'true';

const MIN_MAJOR = 15;
const SERVER_BINARIES = ['initdb', 'pg_ctl', 'postgres'] as const;
const DB_NAME = /^[a-z_][a-z0-9_]*$/;

function serverMajor(binDir: string): number | undefined {
  try {
    const out = execFileSync(path.join(binDir, 'postgres'), ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    });
    const m = /\(PostgreSQL\)\s+(\d+)/.exec(out);
    return m?.[1] === undefined ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

function hasServerBinaries(binDir: string): boolean {
  return SERVER_BINARIES.every((b) => existsSync(path.join(binDir, b)));
}

function candidateBinDirs(): string[] {
  const dirs: string[] = [];
  try {
    const out = execFileSync('pg_config', ['--bindir'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    }).trim();
    if (out) dirs.push(out);
  } catch {
    // no pg_config on PATH
  }
  // Debian/Ubuntu layout, newest major first.
  try {
    const versions = readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) dirs.push(`/usr/lib/postgresql/${v}/bin`);
  } catch {
    // not a Debian layout
  }
  // initdb on PATH (possibly a symlink into the real bin dir).
  for (const p of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!p) continue;
    const initdb = path.join(p, 'initdb');
    if (!existsSync(initdb)) continue;
    try {
      dirs.push(path.dirname(realpathSync(initdb)));
    } catch {
      // dangling symlink
    }
  }
  return [...new Set(dirs)];
}

let binDirCache: { dir: string | undefined } | undefined;

/** The bin dir of a PostgreSQL 15+ server installation, or undefined when there is none. */
export function postgresBinDir(): string | undefined {
  if (binDirCache) return binDirCache.dir;
  let dir: string | undefined;
  for (const d of candidateBinDirs()) {
    if (!hasServerBinaries(d)) continue;
    const major = serverMajor(d);
    if (major !== undefined && major >= MIN_MAJOR) {
      dir = d;
      break;
    }
  }
  binDirCache = { dir };
  return dir;
}

interface RunAs {
  uid: number;
  gid: number;
}

/** When we are root: the `postgres` OS user to run the server as. Undefined when not root. */
function runAs(): RunAs | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const id = (flag: string): number =>
    Number(
      execFileSync('id', [flag, 'postgres'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 10_000,
      }).trim(),
    );
  const uid = id('-u');
  const gid = id('-g');
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error('cannot resolve the postgres user');
  return { uid, gid };
}

/** Undefined when a cluster can be started here; otherwise why not. */
export function pgClusterSkipReason(): string | undefined {
  if (process.platform === 'win32') return 'throwaway PostgreSQL clusters are not supported on Windows';
  if (postgresBinDir() === undefined) {
    return (
      `PostgreSQL ${MIN_MAJOR}+ server binaries (initdb, pg_ctl, postgres) not found ` +
      '(looked at `pg_config --bindir`, /usr/lib/postgresql/*/bin and initdb on PATH); ' +
      'install e.g. the Debian package postgresql-15'
    );
  }
  try {
    runAs();
  } catch {
    return 'running as root but there is no `postgres` OS user to run PostgreSQL as (PostgreSQL refuses to run as root)';
  }
  return undefined;
}

/** The server's extension directory (where `vector.control` goes), or undefined when unknown. */
export function postgresExtensionDir(): string | undefined {
  const binDir = postgresBinDir();
  if (binDir === undefined) return undefined;
  try {
    // pg_config of this very server (Debian: postgresql-server-dev-N) knows for sure.
    const share = execFileSync(path.join(binDir, 'pg_config'), ['--sharedir'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    }).trim();
    if (share) return path.join(share, 'extension');
  } catch {
    // no pg_config beside the server
  }
  const major = serverMajor(binDir);
  const candidates = [
    // Debian/Ubuntu: /usr/lib/postgresql/N/bin -> /usr/share/postgresql/N
    ...(major === undefined ? [] : [path.join('/usr/share/postgresql', String(major))]),
    path.join(binDir, '..', 'share', 'postgresql'),
    path.join(binDir, '..', 'share'),
  ];
  for (const share of candidates) {
    const dir = path.join(share, 'extension');
    if (existsSync(path.join(dir, 'plpgsql.control'))) return dir;
  }
  return undefined;
}

/**
 * Undefined when a cluster can be started here and has pgvector (the memory service's
 * requirement); otherwise why not.
 */
export function pgvectorSkipReason(): string | undefined {
  const reason = pgClusterSkipReason();
  if (reason !== undefined) return reason;
  const dir = postgresExtensionDir();
  if (dir !== undefined && existsSync(path.join(dir, 'vector.control'))) return undefined;
  return (
    `pgvector is not installed in the PostgreSQL server (no vector.control in ${dir ?? 'its extension directory'}); ` +
    'on Debian 12 `bash .ci/run` builds it from Debian 13\'s source package (see the README)'
  );
}

/** A free TCP port on 127.0.0.1 (bind to port 0, read it, close). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => {
        if (addr && typeof addr === 'object') resolve(addr.port);
        else reject(new Error('could not determine a free port'));
      });
    });
  });
}

function confString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

// Clusters still running when the process exits (a crashed test file) are stopped synchronously.
const live = new Map<string, () => void>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const kill of live.values()) kill();
  });
}

export async function startPgCluster(): Promise<PgCluster> {
  const reason = pgClusterSkipReason();
  if (reason !== undefined) throw new Error(`cannot start a PostgreSQL cluster: ${reason}`);
  const binDir = postgresBinDir() as string;
  const user = runAs();

  const root = await mkdtemp(path.join(os.tmpdir(), 'autobuild-pg-'));
  const dataDir = path.join(root, 'data');
  const logFile = path.join(root, 'server.log');
  const bin = (name: (typeof SERVER_BINARIES)[number]): string => path.join(binDir, name);
  const opts = {
    cwd: root,
    env: { LC_ALL: 'C', LANG: 'C', PGTZ: 'UTC' },
    stdin: 'ignore' as const,
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  };

  let started = false;
  const cleanupSync = (): void => {
    if (started) {
      try {
        execFileSync(bin('pg_ctl'), ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '30'], {
          cwd: root,
          stdio: 'ignore',
          timeout: 40_000,
          ...(user ? { uid: user.uid, gid: user.gid } : {}),
        });
      } catch {
        // already stopped
      }
    }
    rmSync(root, { recursive: true, force: true });
  };

  try {
    if (user) await chown(root, user.uid, user.gid);

    await execa(
      bin('initdb'),
      ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C', '--no-instructions'],
      { ...opts, timeout: 120_000 },
    );

    // Later settings in postgresql.conf win over initdb's.
    await appendFile(
      path.join(dataDir, 'postgresql.conf'),
      [
        '',
        '# throwaway test cluster (test/support/pgCluster.ts)',
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = ${confString(root)}`,
        'max_connections = 200',
        'fsync = off',
        'synchronous_commit = off',
        'full_page_writes = off',
        'checkpoint_timeout = 30min',
        "timezone = 'UTC'",
        '',
      ].join('\n'),
    );

    // The port may be taken between choosing and binding it: retry with another one.
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await execa(
          bin('pg_ctl'),
          ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', `-p ${port}`],
          { ...opts, timeout: 90_000 },
        );
        started = true;
        break;
      } catch (err) {
        const log = await readFile(logFile, 'utf8').catch(() => '');
        if (attempt < 3 && /could not (bind|create listen)|address already in use/i.test(log)) continue;
        const msg = err instanceof Error ? err.message : String(err);
        throw new Error(`pg_ctl start failed: ${msg}\n--- server log ---\n${log}`, { cause: err });
      }
    }

    installExitHook();
    live.set(root, cleanupSync);

    const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
    let stopping: Promise<void> | undefined;

    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        live.delete(root);
        try {
          await execa(bin('pg_ctl'), ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '30'], {
            ...opts,
            timeout: 40_000,
          });
        } catch (err) {
          // Already stopped (e.g. killed) is fine; anything else still gets the dir removed.
          const still = existsSync(path.join(dataDir, 'postmaster.pid'));
          if (still) {
            await rm(root, { recursive: true, force: true });
            throw err;
          }
        }
        await rm(root, { recursive: true, force: true });
      })();
      return stopping;
    };

    const createDatabase = async (name: string): Promise<string> => {
      if (!DB_NAME.test(name)) throw new Error(`invalid database name: ${JSON.stringify(name)}`);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`create database ${name}`);
      } finally {
        await client.end();
      }
      const u = new URL(url);
      u.pathname = `/${name}`;
      return u.toString();
    };

    const pause = async (): Promise<void> => {
      await execa(bin('pg_ctl'), ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '30'], { ...opts, timeout: 40_000 });
    };
    const resume = async (): Promise<void> => {
      await execa(bin('pg_ctl'), ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', `-p ${port}`], { ...opts, timeout: 90_000 });
    };

    return { url, port, dataDir, stop, createDatabase, pause, resume };
  } catch (err) {
    live.delete(root);
    cleanupSync();
    throw err;
  }
}

/** The server log of a cluster, for debugging a failing test. */
export function readPgClusterLog(cluster: PgCluster): string {
  try {
    return readFileSync(path.join(path.dirname(cluster.dataDir), 'server.log'), 'utf8');
  } catch {
    return '';
  }
}
