/**
 * Server (3), the ceiling: raw node:http and one pg Pool answering the same SQL on one schema,
 * no framework, no auth, no logging. What the machine can do for this query at all; the other
 * two are read against it. Pool size and database come from the same validated config.
 */
import { createServer } from 'node:http';
import { Pool } from 'pg';
import { quoteTenantSchema } from '@platform/tenancy';
import { failBenchChild, serveAsBenchChild } from './lib/child-ipc';
import { loadOwnerConfig } from './lib/owner-config';

async function main(): Promise<void> {
  const schema = process.env.BENCH_SCHEMA;
  if (!schema) throw new Error('BENCH_SCHEMA is required');
  // Like the baseline: no tenancy, so it reads the schema as the owner (no tenant role).
  const config = loadOwnerConfig(process.env);
  const pool = new Pool({
    connectionString: config.databaseUrl.reveal(),
    max: config.pool.size,
    application_name: 'bench-raw-pg',
  });
  const sql =
    `SELECT id, name, description, created_by AS "createdBy", created_at AS "createdAt" ` +
    `FROM ${quoteTenantSchema(schema)}.projects ORDER BY created_at DESC, id LIMIT $1 OFFSET $2`;

  const server = createServer((request, response) => {
    if (request.method !== 'GET' || !request.url?.startsWith('/api/projects')) {
      response.writeHead(404).end();
      return;
    }
    pool.query(sql, [20, 0]).then(
      (result) => {
        const body = JSON.stringify({ items: result.rows });
        response.writeHead(200, {
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(body),
        });
        response.end(body);
      },
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  serveAsBenchChild(port, async () => {
    server.close();
    server.closeAllConnections();
    await pool.end();
  });
}

main().catch(failBenchChild);
