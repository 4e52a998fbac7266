import { ForbiddenTenantStatementError, assertTenantStatement } from '../tenant-statement.guard';

describe('assertTenantStatement', () => {
  it.each([
    'SET ROLE t_0123',
    'set local role t_0123',
    'RESET ROLE',
    '  \n\tReset all',
    '-- comment\nSET SESSION AUTHORIZATION x',
    '/* a */ /* b */ set search_path to other',
    'DO $$ BEGIN PERFORM 1; END $$',
    'COMMIT',
    'rollback',
    'END',
    'BEGIN',
    'START TRANSACTION',
    'SAVEPOINT s',
    'RELEASE SAVEPOINT s',
    'PREPARE TRANSACTION $$x$$',
    'DISCARD ALL',
    'LISTEN x',
    'CALL p()',
    'COPY projects TO STDOUT',
  ])('refuses %j with SQLSTATE 42501', (sql) => {
    let refused: unknown;
    try {
      assertTenantStatement(sql);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ForbiddenTenantStatementError);
    expect((refused as ForbiddenTenantStatementError).code).toBe('42501');
  });

  it.each([
    'SELECT * FROM projects',
    'WITH x AS (SELECT 1) SELECT * FROM x',
    'INSERT INTO projects (name) VALUES ($1) RETURNING id',
    "UPDATE settings SET value = 'x'",
    'DELETE FROM projects WHERE id = $1',
    'VALUES (1)',
    "SELECT 'SET ROLE x'",
    '-- SET ROLE in a comment only\nSELECT 1',
    'settings_view', // a word that only starts like SET
  ])('lets %j through', (sql) => {
    expect(() => assertTenantStatement(sql)).not.toThrow();
  });
});
