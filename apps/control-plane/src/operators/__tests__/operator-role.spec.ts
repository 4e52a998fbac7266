import { OPERATOR_ROLES, roleAllows, type OperatorRole } from '../operator-role';

describe('roleAllows', () => {
  // Rows: the caller's role; columns: the role a route needs.
  const table: Record<OperatorRole, Record<OperatorRole, boolean>> = {
    admin: { admin: true, ops: true, sre: true, viewer: true },
    ops: { admin: false, ops: true, sre: false, viewer: true },
    sre: { admin: false, ops: false, sre: true, viewer: true },
    viewer: { admin: false, ops: false, sre: false, viewer: true },
  };

  const cases = OPERATOR_ROLES.flatMap((role) =>
    OPERATOR_ROLES.map((needed) => [role, needed, table[role][needed]] as const),
  );

  it.each(cases)('%s calling a route for %s → %s', (role, needed, allowed) => {
    expect(roleAllows(role, [needed])).toBe(allowed);
  });

  it('allows any of several roles a route names', () => {
    expect(roleAllows('sre', ['ops', 'sre'])).toBe(true);
    expect(roleAllows('viewer', ['ops', 'sre'])).toBe(false);
  });
});
