import type { OperatorRole } from './operator-role';

/** A row of platform.operators as the registry returns it (never sent as is: it has the hash). */
export interface OperatorRow {
  id: string;
  email: string;
  name: string;
  role: OperatorRole;
  password_hash: string;
  disabled_at: Date | null;
  created_at: Date;
  last_login_at: Date | null;
}

/** What the API shows of an operator. */
export interface OperatorView {
  id: string;
  email: string;
  name: string;
  role: OperatorRole;
  disabled: boolean;
  disabledAt: Date | null;
  createdAt: Date;
  lastLoginAt: Date | null;
}

export function toOperatorView(row: OperatorRow): OperatorView {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    disabled: row.disabled_at !== null,
    disabledAt: row.disabled_at,
    createdAt: row.created_at,
    lastLoginAt: row.last_login_at,
  };
}
