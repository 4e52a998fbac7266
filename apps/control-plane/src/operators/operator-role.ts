export const OPERATOR_ROLES = ['admin', 'ops', 'sre', 'viewer'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

export function isOperatorRole(value: unknown): value is OperatorRole {
  return (OPERATOR_ROLES as readonly unknown[]).includes(value);
}

/**
 * Whether an operator with `role` may call a route that needs one of `needed`. Not a ladder:
 * `ops` and `sre` are siblings (neither can do the other's work), `admin` can do everything, and
 * a route that needs `viewer` is open to every signed-in operator.
 */
export function roleAllows(role: OperatorRole, needed: readonly OperatorRole[]): boolean {
  return role === 'admin' || needed.includes('viewer') || needed.includes(role);
}
