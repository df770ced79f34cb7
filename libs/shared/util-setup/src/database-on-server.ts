import { migrate } from './processes';
import { ensureDatabase } from './services';

/**
 * Creates database `name` on the PostgreSQL server at `serverUrl` (`postgresql://user@host:port`,
 * no database) if it is missing, applies every migration, and returns the database's URL. For
 * tests that run a PostgreSQL server of their own (`createTestDatabase` uses the shared one).
 */
export async function createDatabaseOn(
  serverUrl: string,
  name: string,
): Promise<string> {
  const url = `${serverUrl.replace(/\/+$/, '')}/${name}`;
  await ensureDatabase(url);
  migrate(url);
  return url;
}
