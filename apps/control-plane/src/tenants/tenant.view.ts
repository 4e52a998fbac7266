import type { ProvisioningStepEntity } from '../provisioning/provisioning-step.entity';
import type { TenantDomainEntity } from './tenant-domain.entity';
import type { TenantEntity } from './tenant.entity';

/** What the API shows of a tenant: registry columns, domains and provisioning progress. */
export interface TenantView {
  id: string;
  slug: string;
  name: string;
  plan: string;
  adminEmail: string;
  status: string;
  statusReason: string | null;
  schema: string;
  cluster: string;
  templateVersion: number;
  createdAt: Date;
  activatedAt: Date | null;
  suspendedAt: Date | null;
  deletedAt: Date | null;
  domains?: { hostname: string; kind: string; status: string }[];
  provisioningSteps?: {
    step: string;
    status: string;
    attempts: number;
    lastError: string | null;
    startedAt: Date | null;
    finishedAt: Date | null;
    durationMs: number | null;
  }[];
}

export function toTenantView(
  tenant: TenantEntity,
  domains?: readonly TenantDomainEntity[],
  steps?: readonly ProvisioningStepEntity[],
): TenantView {
  return {
    id: tenant.id,
    slug: tenant.slug,
    name: tenant.name,
    plan: tenant.plan,
    adminEmail: tenant.adminEmail,
    status: tenant.status,
    statusReason: tenant.statusReason,
    schema: tenant.schemaName,
    cluster: tenant.cluster,
    templateVersion: tenant.templateVersion,
    createdAt: tenant.createdAt,
    activatedAt: tenant.activatedAt,
    suspendedAt: tenant.suspendedAt,
    deletedAt: tenant.deletedAt,
    ...(domains && {
      domains: domains.map(({ hostname, kind, status }) => ({ hostname, kind, status })),
    }),
    ...(steps && {
      provisioningSteps: [...steps]
        .sort((a, b) => a.position - b.position)
        .map((step) => ({
          step: step.step,
          status: step.status,
          attempts: step.attempts,
          lastError: step.lastError,
          startedAt: step.startedAt,
          finishedAt: step.finishedAt,
          durationMs: step.durationMs,
        })),
    }),
  };
}
