import { AsyncLocalStorage } from 'node:async_hooks';
import type { TenantRef } from './tenant.types';

export class MissingTenantContextError extends Error {
  constructor() {
    super('No tenant context is set: tenant data can only be reached inside runInTenant()');
    this.name = 'MissingTenantContextError';
  }
}

const storage = new AsyncLocalStorage<TenantRef>();

/**
 * The tenant a piece of work runs for. Set once (by host resolution, or by a job from its
 * payload) and read everywhere else; reading it outside a context throws instead of falling
 * back to some default tenant, because a default is how one tenant's rows end up in another's.
 */
export const TenantContext = {
  current(): TenantRef {
    const tenant = storage.getStore();
    if (!tenant) throw new MissingTenantContextError();
    return tenant;
  },

  currentOrNull(): TenantRef | null {
    return storage.getStore() ?? null;
  },

  /** Runs `work` as `tenant`; the previous context (if any) is back when `work` settles. */
  run<T>(tenant: TenantRef, work: () => T): T {
    return storage.run(tenant, work);
  },
};

export const runInTenant = TenantContext.run;
