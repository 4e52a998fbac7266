import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { TenantTransactionRunner } from '@platform/database';
import type { PlanLimits, QuotaName, QuotaUsage } from '@platform/tenancy';
import { TenantAuthGuard } from '../auth/tenant-auth.guard';
import { STORAGE_USED_SQL } from '../files/files.repository';
import { CurrentLimits } from './current-limits.decorator';
import { PROJECTS_USED_SQL, USERS_USED_SQL } from './quota-usage';

export interface TenantUsage {
  /** Each quota's limit (plan default or the tenant's override) and what is used of it. */
  quotas: Record<QuotaName, QuotaUsage>;
  /** The rate and concurrency limits in force, for clients that pace themselves. */
  rates: Pick<PlanLimits, 'requestsPerMinute' | 'requestsPerMinutePerUser' | 'concurrentRequests'>;
}

/** The tenant's usage against its quotas: what a quota_exceeded refusal would be measured by. */
@ApiTags('tenant')
@ApiBearerAuth()
@UseGuards(TenantAuthGuard)
@Controller('api/usage')
export class UsageController {
  constructor(private readonly database: TenantTransactionRunner) {}

  @Get()
  async usage(@CurrentLimits() limits: PlanLimits): Promise<TenantUsage> {
    // One read-only statement, the same measures the quota checks use.
    const [row] = await this.database.query<{ users: string; projects: string; storage: string }>(
      `SELECT (${USERS_USED_SQL}) AS users, (${PROJECTS_USED_SQL}) AS projects,
              (${STORAGE_USED_SQL}) AS storage`,
      [],
      { readOnly: true },
    );
    return {
      quotas: {
        maxUsers: { limit: limits.maxUsers, used: Number(row.users) },
        maxProjects: { limit: limits.maxProjects, used: Number(row.projects) },
        maxStorageBytes: { limit: limits.maxStorageBytes, used: Number(row.storage) },
      },
      rates: {
        requestsPerMinute: limits.requestsPerMinute,
        requestsPerMinutePerUser: limits.requestsPerMinutePerUser,
        concurrentRequests: limits.concurrentRequests,
      },
    };
  }
}
