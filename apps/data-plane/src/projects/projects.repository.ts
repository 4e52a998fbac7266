import { Injectable } from '@nestjs/common';
import { TenantTransactionRunner, checkTenantQuota } from '@platform/database';
import { PROJECTS_USED_SQL } from '../quotas/quota-usage';
import type { ProjectView } from './project.dto';

const COLUMNS = `id, name, description, created_by AS "createdBy", created_at AS "createdAt"`;

/** Projects of the current tenant. Table names are unqualified: search_path picks the schema. */
@Injectable()
export class ProjectsRepository {
  constructor(private readonly database: TenantTransactionRunner) {}

  list(limit: number, offset: number): Promise<ProjectView[]> {
    return this.database.query<ProjectView>(
      `SELECT ${COLUMNS} FROM projects ORDER BY created_at DESC, id LIMIT $1 OFFSET $2`,
      [limit, offset],
      // One plan fits every page: newest first by the index on created_at, whatever the limit.
      { readOnly: true, genericPlan: true },
    );
  }

  /** Under the tenant's maxProjects quota: QuotaExceededError, and nothing inserted, when full. */
  create(
    name: string,
    description: string,
    createdBy: string,
    maxProjects: number,
  ): Promise<ProjectView> {
    return this.database.run(async (tx) => {
      await checkTenantQuota(tx, 'maxProjects', maxProjects, PROJECTS_USED_SQL);
      const [project] = await tx.query<ProjectView>(
        `INSERT INTO projects (name, description, created_by) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`,
        [name, description, createdBy],
      );
      return project;
    });
  }
}
