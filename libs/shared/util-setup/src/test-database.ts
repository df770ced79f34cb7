import { Client } from 'pg';
import { migrate } from './processes';
import { ensureDatabase } from './services';

const SERVER_URL =
  process.env.TEST_DATABASE_SERVER_URL ??
  'postgresql://postgres@127.0.0.1:5432';

/** A fresh, migrated PostgreSQL database for one test file; `drop()` removes it. */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name =
    `marquee_test_${label}_${process.pid}_${Date.now().toString(36)}`.toLowerCase();
  const url = `${SERVER_URL}/${name}`;
  await ensureDatabase(url);
  migrate(url);
  return {
    url,
    drop: async () => {
      const client = new Client({ connectionString: `${SERVER_URL}/postgres` });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
