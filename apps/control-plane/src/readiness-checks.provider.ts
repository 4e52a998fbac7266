import type { Provider } from '@nestjs/common';
import { ClusterConnections } from '@platform/database';
import { READINESS_CHECKS } from '@platform/observability';
import { TenantEvents } from '@platform/tenant-events';

/** The control plane is ready when its PostgreSQL clusters and Redis answer. */
export const controlPlaneReadinessChecks: Provider = {
  provide: READINESS_CHECKS,
  inject: [ClusterConnections, TenantEvents],
  useFactory: (clusters: ClusterConnections, events: TenantEvents) => [clusters, events],
};
