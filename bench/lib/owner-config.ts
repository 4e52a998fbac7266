import { loadDataPlaneConfig, type DataPlaneConfig } from '@platform/config';

/**
 * The data plane's validated config, but signed in as the database owner (DATABASE_URL's own
 * user) instead of the data plane's login: for the servers without tenancy (the NestJS baseline
 * and the raw ceiling), which have no tenant roles to switch into and read one schema directly.
 */
export function loadOwnerConfig(env: NodeJS.ProcessEnv): DataPlaneConfig {
  const owner = decodeURIComponent(new URL(env.DATABASE_URL ?? 'postgres://postgres@x').username);
  return loadDataPlaneConfig({ ...env, DATA_PLANE_DATABASE_USER: owner || 'postgres' });
}
