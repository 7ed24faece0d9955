/**
 * The PostgreSQL that tests and benchmarks use: 127.0.0.1:5432, database `test`, trust auth
 * (HOTLINE_TEST_POSTGRES overrides the URL). Each creates schemas of its own and drops them after.
 *
 * @example
 *   const store = await openPostgresStore({ url: TEST_POSTGRES, schema });
 *   afterAll(() => dropSchemas(schema));
 */
import pg from 'pg';

export const TEST_POSTGRES =
  process.env.HOTLINE_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Drops each schema named, and all it holds, if it exists. */
export async function dropSchemas(...schemas: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
}
