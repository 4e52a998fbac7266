import { PlatformRegistry1763870000000 } from './1763870000000-platform-registry.migration';

/** Applied in this order by `migratePlatformSchema` at every app's start. */
export const PLATFORM_MIGRATIONS = [PlatformRegistry1763870000000];
