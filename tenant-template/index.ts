import type { TemplateMigration, TemplateSeed } from '@platform/database';
import { CreateUsers0001 } from './migrations/0001-create-users.migration';
import { CreateProjects0002 } from './migrations/0002-create-projects.migration';
import { CreateLookups0003 } from './migrations/0003-create-lookups.migration';
import { ArchiveProjects0004 } from './migrations/0004-archive-projects.migration';
import { AuthTokens0005 } from './migrations/0005-auth-tokens.migration';
import { CreateFiles0006 } from './migrations/0006-create-files.migration';
import { lookupsSeed } from './seeds/lookups.seed';

/** In version order, gap-free: the migrator refuses anything else. */
export const TENANT_TEMPLATE_MIGRATIONS: readonly TemplateMigration[] = [
  new CreateUsers0001(),
  new CreateProjects0002(),
  new CreateLookups0003(),
  new ArchiveProjects0004(),
  new AuthTokens0005(),
  new CreateFiles0006(),
];

export const TENANT_TEMPLATE_SEEDS: readonly TemplateSeed[] = [lookupsSeed];

export { COUNTRIES } from './seeds/countries.data';
export { CURRENCIES } from './seeds/currencies.data';
