import { execFile, spawnSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { atExit, killQuietly } from './last-resort';

const exec = promisify(execFile);

/** The folder of `initdb` and `pg_ctl`: PG_BIN, else Debian's newest /usr/lib/postgresql/<v>/bin. */
function binDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0)
    throw new Error(
      'PostgreSQL server binaries not found: install postgresql or set PG_BIN to the folder of initdb and pg_ctl',
    );
  return join(root, versions[0], 'bin');
}

/** The uid and gid of the `postgres` user (PostgreSQL refuses to run as root). */
function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => {
    const result = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
    if (result.status !== 0)
      throw new Error('running as root needs a `postgres` user for PostgreSQL');
    return Number(result.stdout.trim());
  };
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * A PostgreSQL cluster of the test's own: `initdb` into a temporary folder, `pg_ctl` to start
 * and stop it on its own port and socket folder, trust authentication on 127.0.0.1. As root
 * (as in CI), every command runs as the `postgres` user through `runuser`.
 */
export class PostgresServer {
  private readonly bin = binDir();
  private readonly asRoot = process.getuid?.() === 0;
  private readonly dataDir: string;
  private readonly socketDir: string;
  private readonly forget: () => void;
  private started = false;

  private constructor(
    readonly port: number,
    private readonly baseDir: string,
  ) {
    this.dataDir = join(baseDir, 'data');
    this.socketDir = join(baseDir, 'socket');
    this.forget = atExit(() => this.stopNow());
  }

  /** Creates the cluster (initdb); `start()` runs it. */
  static async create(port: number): Promise<PostgresServer> {
    const baseDir = mkdtempSync(join(tmpdir(), 'marquee-faults-pg-'));
    const server = new PostgresServer(port, baseDir);
    mkdirSync(server.socketDir);
    if (server.asRoot) {
      const { uid, gid } = postgresUser();
      chownSync(baseDir, uid, gid);
      chownSync(server.socketDir, uid, gid);
    }
    await server.pg('initdb', [
      '-D',
      server.dataDir,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
      '--no-instructions',
    ]);
    return server;
  }

  /** The server's URL without a database (append `/<name>`). */
  get serverUrl(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}`;
  }

  get logFile(): string {
    return join(this.baseDir, 'postgres.log');
  }

  async start(): Promise<void> {
    await this.pg('pg_ctl', [
      '-D',
      this.dataDir,
      '-l',
      this.logFile,
      '-w',
      '-t',
      '60',
      '-o',
      [
        `-p ${this.port}`,
        `-k ${this.socketDir}`,
        '-c listen_addresses=127.0.0.1',
        // A process kill, not a machine crash, is the fault under test: the kernel keeps
        // what was written, so skipping fsync loses nothing here and saves the disk.
        '-c fsync=off',
        '-c full_page_writes=off',
        '-c max_connections=300',
      ].join(' '),
      'start',
    ]);
    this.started = true;
  }

  /** `pg_ctl stop -m immediate`: every backend killed at once, no checkpoint (a crash). */
  async stopImmediate(): Promise<void> {
    await this.pg('pg_ctl', [
      '-D',
      this.dataDir,
      '-m',
      'immediate',
      '-w',
      'stop',
    ]);
    this.started = false;
  }

  /** kill -9 of the postmaster (its backends notice and exit on their own). */
  killPostmaster(): void {
    const pidFile = join(this.dataDir, 'postmaster.pid');
    if (!existsSync(pidFile)) return;
    killQuietly(Number(readFileSync(pidFile, 'utf8').split('\n')[0]));
    this.started = false;
  }

  /** Stops the cluster if it runs and deletes its folder. */
  async dispose(): Promise<void> {
    try {
      if (this.started || existsSync(join(this.dataDir, 'postmaster.pid')))
        await this.stopImmediate();
    } finally {
      this.forget();
      rmSync(this.baseDir, { recursive: true, force: true });
    }
  }

  /** The last lines PostgreSQL logged, for failure messages. */
  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8').slice(-3000);
    } catch {
      return '';
    }
  }

  private async pg(tool: string, args: string[]): Promise<void> {
    const path = join(this.bin, tool);
    const [command, argv] = this.asRoot
      ? ['runuser', ['-u', 'postgres', '--', path, ...args]]
      : [path, args];
    try {
      await exec(command, argv, { cwd: this.baseDir, timeout: 90_000 });
    } catch (error) {
      const { stdout = '', stderr = '' } = error as {
        stdout?: string;
        stderr?: string;
      };
      throw new Error(
        `${tool} ${args.at(-1)} failed: ${(error as Error).message}\n${stdout}${stderr}\n${this.log()}`,
      );
    }
  }

  /** The synchronous stop for process exit: immediate, errors ignored, folder removed. */
  private stopNow(): void {
    if (existsSync(join(this.dataDir, 'postmaster.pid'))) {
      const path = join(this.bin, 'pg_ctl');
      const args = ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop'];
      spawnSync(
        this.asRoot ? 'runuser' : path,
        this.asRoot ? ['-u', 'postgres', '--', path, ...args] : args,
        { stdio: 'ignore', timeout: 30_000 },
      );
    }
    rmSync(this.baseDir, { recursive: true, force: true });
  }
}
