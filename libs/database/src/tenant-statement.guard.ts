/**
 * What a tenant transaction may not run: anything that changes who the session is or ends the
 * transaction early.
 *
 * PostgreSQL checks `SET ROLE` against the session user, i.e. the pooled login that every tenant
 * shares, so no privilege can stop a raw `SET ROLE other_tenant` or `RESET ROLE` sent on that
 * connection. The database stops the other ways in (tenant roles may not call set_config(), and
 * the extended protocol never runs two statements from one string); this refuses the statements
 * themselves before they leave the process. `COMMIT`/`ROLLBACK` would end the transaction and with
 * it the tenant's role and search_path, leaving the rest of the work to run as the login.
 */
const FORBIDDEN_LEADING_KEYWORD =
  /^(?:\s|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*(set|reset|do|begin|start|commit|end|rollback|abort|savepoint|release|prepare|discard|listen|call|load|copy)\b/i;

export const INSUFFICIENT_PRIVILEGE = '42501';

export class ForbiddenTenantStatementError extends Error {
  /** The SQLSTATE PostgreSQL itself uses for a refused privilege. */
  readonly code = INSUFFICIENT_PRIVILEGE;

  constructor(keyword: string) {
    super(
      `permission denied: a tenant transaction cannot run ${keyword.toUpperCase()} (it would change the session's role, settings or transaction)`,
    );
    this.name = 'ForbiddenTenantStatementError';
  }
}

export function assertTenantStatement(sql: string): void {
  const match = FORBIDDEN_LEADING_KEYWORD.exec(sql);
  if (match) throw new ForbiddenTenantStatementError(match[1]);
}
