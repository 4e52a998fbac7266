/**
 * The one place schema names are made and checked. Names derive from the tenant's immutable id
 * (never from the slug), so renaming a slug or domain never renames a schema, and a hostile slug
 * can never reach SQL as an identifier.
 */
const TENANT_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SCHEMA_NAME_PATTERN = /^t_[0-9a-f]{32}$/;
const PLAIN_IDENTIFIER_PATTERN = /^[a-z_][a-z0-9_]*$/;
const MAX_IDENTIFIER_BYTES = 63;

export class InvalidIdentifierError extends Error {
  constructor(kind: string, value: string) {
    super(`Refusing ${kind} ${JSON.stringify(value.slice(0, 80))}: it breaks the naming rules`);
    this.name = 'InvalidIdentifierError';
  }
}

export function isTenantId(value: string): boolean {
  return TENANT_ID_PATTERN.test(value);
}

export function schemaNameForTenant(tenantId: string): string {
  if (!isTenantId(tenantId)) throw new InvalidIdentifierError('tenant id', tenantId);
  return `t_${tenantId.replace(/-/g, '')}`;
}

export function assertTenantSchemaName(schemaName: string): string {
  if (!SCHEMA_NAME_PATTERN.test(schemaName)) {
    throw new InvalidIdentifierError('tenant schema name', schemaName);
  }
  return schemaName;
}

/**
 * Quotes a plain identifier (platform schema, table) after checking it. Deliberately narrow:
 * anything that would need escaping inside the quotes is refused rather than escaped.
 */
export function quoteIdentifier(identifier: string): string {
  if (
    !PLAIN_IDENTIFIER_PATTERN.test(identifier) ||
    Buffer.byteLength(identifier) > MAX_IDENTIFIER_BYTES ||
    identifier.startsWith('pg_')
  ) {
    throw new InvalidIdentifierError('identifier', identifier);
  }
  return `"${identifier}"`;
}

export function quoteTenantSchema(schemaName: string): string {
  return quoteIdentifier(assertTenantSchemaName(schemaName));
}
