import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { isUUID } from 'class-validator';
import { DataSource, QueryFailedError, type EntityManager } from 'typeorm';
import { AuditLog } from '../audit/audit-log.service';
import { ControlPlaneErrorCode, ControlPlaneException } from '../errors/control-plane.exception';
import type { OperatorRole } from './operator-role';
import { toOperatorView, type OperatorRow, type OperatorView } from './operator.view';
import { hashPassword, verifyPassword } from './password-hashing';
import { generatePassword, passwordProblem } from './password-policy';

const UNIQUE_VIOLATION = '23505';
const OPERATOR_COLUMNS =
  'id, email, name, role, password_hash, disabled_at, created_at, last_login_at';

export interface NewOperator {
  readonly email: string;
  readonly name?: string;
  readonly role: OperatorRole;
  /** Without one, a password is generated and returned once. */
  readonly password?: string;
}

export interface OperatorChanges {
  readonly role?: OperatorRole;
  readonly name?: string;
  readonly disabled?: boolean;
}

export interface OperatorWithPassword {
  operator: OperatorView;
  /** The generated password, shown this once; null when the caller chose the password. */
  oneTimePassword: string | null;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * Operator accounts: creation, roles, disabling, passwords. Used by the API (admins) and the CLI
 * (the first admin). Every change is audited in the transaction that makes it.
 */
@Injectable()
export class OperatorAccounts {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
  ) {}

  async create(input: NewOperator, actor: string): Promise<OperatorWithPassword> {
    const email = normalizeEmail(input.email);
    const password = input.password ?? generatePassword();
    checkPassword(password, email);
    const passwordHash = await hashPassword(password);
    try {
      const operator = await this.dataSource.transaction(async (manager) => {
        const [row] = await manager.query<OperatorRow[]>(
          `INSERT INTO platform.operators (email, name, role, password_hash)
           VALUES ($1, $2, $3, $4) RETURNING ${OPERATOR_COLUMNS}`,
          [email, input.name?.trim() ?? '', input.role, passwordHash],
        );
        await this.audit.record(manager, {
          actor,
          action: 'operator.create',
          tenantId: null,
          details: { operatorId: row.id, email, role: row.role, name: row.name },
        });
        return row;
      });
      return {
        operator: toOperatorView(operator),
        oneTimePassword: input.password === undefined ? password : null,
      };
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ControlPlaneException(
          ControlPlaneErrorCode.OperatorEmailTaken,
          `an operator with e-mail ${email} already exists`,
        );
      }
      throw error;
    }
  }

  async list(): Promise<OperatorView[]> {
    const rows = await this.dataSource.query<OperatorRow[]>(
      `SELECT ${OPERATOR_COLUMNS} FROM platform.operators ORDER BY email`,
    );
    return rows.map(toOperatorView);
  }

  async get(id: string): Promise<OperatorView> {
    return toOperatorView(await this.row(this.dataSource.manager, id));
  }

  /** The account to check a sign-in against, or null (disabled accounts included). */
  async findByEmail(email: string): Promise<OperatorRow | null> {
    const [row] = await this.dataSource.query<OperatorRow[]>(
      `SELECT ${OPERATOR_COLUMNS} FROM platform.operators WHERE email = $1`,
      [normalizeEmail(email)],
    );
    return row ?? null;
  }

  async recordLogin(id: string): Promise<void> {
    await this.dataSource.query(
      'UPDATE platform.operators SET last_login_at = now() WHERE id = $1',
      [id],
    );
  }

  /**
   * Role, name and disabled flag. Disabling ends the operator's sessions at once (its API keys
   * stop working while it stays disabled). The last enabled admin cannot be demoted or
   * disabled: somebody must be able to manage operators once the bootstrap token is off.
   */
  async update(id: string, changes: OperatorChanges, actor: string): Promise<OperatorView> {
    const updated = await this.dataSource.transaction(async (manager) => {
      const before = await this.row(manager, id, true);
      const losesAdmin =
        before.role === 'admin' &&
        before.disabled_at === null &&
        ((changes.role !== undefined && changes.role !== 'admin') || changes.disabled === true);
      if (losesAdmin) await this.keepAnotherAdmin(manager, id);
      const [[after]] = await manager.query<[OperatorRow[], number]>(
        `UPDATE platform.operators
            SET role = COALESCE($2, role),
                name = COALESCE($3, name),
                disabled_at = CASE WHEN $4::boolean IS NULL THEN disabled_at
                                   WHEN $4 THEN COALESCE(disabled_at, now())
                                   ELSE NULL END,
                updated_at = now()
          WHERE id = $1
          RETURNING ${OPERATOR_COLUMNS}`,
        [id, changes.role ?? null, changes.name?.trim() ?? null, changes.disabled ?? null],
      );
      if (after.disabled_at !== null && before.disabled_at === null) {
        await endSessions(manager, id);
      }
      await this.audit.record(manager, {
        actor,
        action: 'operator.update',
        tenantId: null,
        details: {
          operatorId: id,
          email: after.email,
          before: { role: before.role, name: before.name, disabled: before.disabled_at !== null },
          after: { role: after.role, name: after.name, disabled: after.disabled_at !== null },
        },
      });
      return after;
    });
    return toOperatorView(updated);
  }

  /** An admin sets (or generates) someone's password; all of that operator's sessions end. */
  async resetPassword(
    id: string,
    password: string | undefined,
    actor: string,
  ): Promise<OperatorWithPassword> {
    const target = await this.row(this.dataSource.manager, id);
    const chosen = password ?? generatePassword();
    checkPassword(chosen, target.email);
    const passwordHash = await hashPassword(chosen);
    await this.dataSource.transaction(async (manager) => {
      await this.setPasswordHash(manager, id, passwordHash);
      await endSessions(manager, id);
      await this.audit.record(manager, {
        actor,
        action: 'operator.password_reset',
        tenantId: null,
        details: { operatorId: id, email: target.email },
      });
    });
    return {
      operator: toOperatorView(target),
      oneTimePassword: password === undefined ? chosen : null,
    };
  }

  /**
   * An operator changes its own password, proving the current one. Its other sessions end (a
   * password change is what someone does after suspecting a stolen session); this one stays.
   */
  async changeOwnPassword(
    id: string,
    currentPassword: string,
    newPassword: string,
    keepSessionId: string | null,
    actor: string,
  ): Promise<void> {
    const operator = await this.row(this.dataSource.manager, id);
    if (!(await verifyPassword(operator.password_hash, currentPassword))) {
      throw new ControlPlaneException(
        ControlPlaneErrorCode.CurrentPasswordWrong,
        'currentPassword is wrong',
      );
    }
    checkPassword(newPassword, operator.email);
    const passwordHash = await hashPassword(newPassword);
    await this.dataSource.transaction(async (manager) => {
      await this.setPasswordHash(manager, id, passwordHash);
      await endSessions(manager, id, keepSessionId);
      await this.audit.record(manager, {
        actor,
        action: 'operator.password_change',
        tenantId: null,
        details: { operatorId: id, email: operator.email },
      });
    });
  }

  private async setPasswordHash(manager: EntityManager, id: string, passwordHash: string) {
    await manager.query(
      `UPDATE platform.operators
          SET password_hash = $2, password_changed_at = now(), updated_at = now()
        WHERE id = $1`,
      [id, passwordHash],
    );
  }

  private async row(manager: EntityManager, id: string, forUpdate = false): Promise<OperatorRow> {
    const [row] = isUUID(id)
      ? await manager.query<OperatorRow[]>(
          `SELECT ${OPERATOR_COLUMNS} FROM platform.operators WHERE id = $1
           ${forUpdate ? 'FOR UPDATE' : ''}`,
          [id],
        )
      : [];
    if (!row) {
      throw new ControlPlaneException(
        ControlPlaneErrorCode.OperatorNotFound,
        `operator ${id} not found`,
      );
    }
    return row;
  }

  /**
   * Locks every enabled admin row, so two admins demoting each other at the same moment cannot
   * both succeed, then refuses when `id` is the only one.
   */
  private async keepAnotherAdmin(manager: EntityManager, id: string): Promise<void> {
    const admins = await manager.query<{ id: string }[]>(
      `SELECT id FROM platform.operators
        WHERE role = 'admin' AND disabled_at IS NULL
        ORDER BY id FOR UPDATE`,
    );
    if (!admins.some((admin) => admin.id !== id)) {
      throw new ControlPlaneException(
        ControlPlaneErrorCode.LastAdmin,
        'this is the last enabled admin: make another operator admin first',
      );
    }
  }
}

function checkPassword(password: string, email: string): void {
  const problem = passwordProblem(password, email);
  if (problem) throw new ControlPlaneException(ControlPlaneErrorCode.WeakPassword, problem);
}

/** Ends an operator's sessions (all, or all but one). */
async function endSessions(
  manager: EntityManager,
  operatorId: string,
  exceptSessionId: string | null = null,
): Promise<void> {
  await manager.query(
    `UPDATE platform.operator_sessions SET revoked_at = now()
      WHERE operator_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR id <> $2::uuid)`,
    [operatorId, exceptSessionId],
  );
}

function isUniqueViolation(error: unknown): boolean {
  return (
    error instanceof QueryFailedError &&
    (error.driverError as { code?: string }).code === UNIQUE_VIOLATION
  );
}
