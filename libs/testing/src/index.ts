export { freePort } from './free-port';
export { createTestDatabase, type TestDatabase } from './test-database';
export { startPgBouncer, type PgBouncerHandle, type PgBouncerOptions } from './pgbouncer';
