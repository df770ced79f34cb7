/**
 * Synchronous clean-ups run when the test process exits without reaching `afterAll` (a crash,
 * Jest giving up on a hung file): no redis-server or postgres may outlive the tests. Each
 * registration returns its own removal, called once the normal clean-up has done the job.
 */
const cleanups = new Set<() => void>();
let installed = false;

export function atExit(cleanup: () => void): () => void {
  if (!installed) {
    installed = true;
    process.once('exit', () => {
      for (const run of cleanups) {
        try {
          run();
        } catch (error) {
          console.error(
            `faults-e2e: clean-up at exit failed: ${String(error)}`,
          );
        }
      }
    });
  }
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** SIGKILL to `pid` if it still runs; never throws. */
export function killQuietly(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
