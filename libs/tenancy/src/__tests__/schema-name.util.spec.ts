import {
  InvalidIdentifierError,
  assertTenantSchemaName,
  quoteIdentifier,
  quoteTenantSchema,
  schemaNameForTenant,
} from '../schema-name.util';

describe('schema names', () => {
  const id = '5ab26362-798c-4cf1-b378-d89f56269ca7';

  it('derives the schema from the tenant id, never from anything else', () => {
    expect(schemaNameForTenant(id)).toBe('t_5ab26362798c4cf1b378d89f56269ca7');
    expect(quoteTenantSchema(schemaNameForTenant(id))).toBe('"t_5ab26362798c4cf1b378d89f56269ca7"');
  });

  it.each(['acme', "5ab26362-798c-4cf1-b378-d89f56269ca7'; --", '', 'PUBLIC'])(
    'refuses a tenant id %p',
    (value) => {
      expect(() => schemaNameForTenant(value)).toThrow(InvalidIdentifierError);
    },
  );

  it.each(['public', 'pg_catalog', 't_123', 't_5AB26362798C4CF1B378D89F56269CA7', 't_x"; drop'])(
    'refuses %p as a tenant schema',
    (value) => {
      expect(() => assertTenantSchemaName(value)).toThrow(InvalidIdentifierError);
    },
  );

  it.each(['pg_catalog', 'a"b', 'A', '1abc', 'x'.repeat(64), ''])(
    'refuses %p as an identifier instead of escaping it',
    (value) => {
      expect(() => quoteIdentifier(value)).toThrow(InvalidIdentifierError);
    },
  );
});
