/**
 * Slugs become DNS labels (`<slug>.<platform domain>`) and appear in URLs, mails and logs, so
 * they follow the DNS label rules and avoid names with a meaning of their own. Schema names do
 * not derive from slugs (see schema-name.util.ts), so a slug can change without a rename.
 */
export const SLUG_MIN_LENGTH = 3;
export const SLUG_MAX_LENGTH = 40;

export const RESERVED_SLUGS: ReadonlySet<string> = new Set([
  'www',
  'api',
  'admin',
  'administrator',
  'app',
  'apps',
  'assets',
  'auth',
  'billing',
  'blog',
  'cdn',
  'console',
  'control',
  'control-plane',
  'dashboard',
  'data',
  'data-plane',
  'dev',
  'docs',
  'ftp',
  'health',
  'help',
  'imap',
  'internal',
  'localhost',
  'login',
  'mail',
  'metrics',
  'mx',
  'ns',
  'ns1',
  'ns2',
  'ops',
  'platform',
  'pop',
  'pop3',
  'postgres',
  'postmaster',
  'public',
  'root',
  'smtp',
  'staging',
  'static',
  'status',
  'support',
  'system',
  'test',
  'webmail',
  'information-schema',
  'information_schema',
  'tenant',
  'tenants',
  'template',
]);

export type SlugViolation =
  | { rule: 'required'; message: string }
  | { rule: 'length'; message: string }
  | { rule: 'charset'; message: string }
  | { rule: 'hyphen-edge'; message: string }
  | { rule: 'double-hyphen'; message: string }
  | { rule: 'reserved'; message: string };

/** Returns the first rule the slug breaks, or null when it is a valid slug. */
export function slugViolation(slug: unknown): SlugViolation | null {
  if (typeof slug !== 'string' || slug.length === 0) {
    return { rule: 'required', message: 'slug is required and must be a string' };
  }
  if (slug.length < SLUG_MIN_LENGTH || slug.length > SLUG_MAX_LENGTH) {
    return {
      rule: 'length',
      message: `slug must be ${SLUG_MIN_LENGTH}-${SLUG_MAX_LENGTH} characters long`,
    };
  }
  if (!/^[a-z0-9-]+$/.test(slug)) {
    return {
      rule: 'charset',
      message: 'slug may contain only lower-case letters a-z, digits 0-9 and hyphens',
    };
  }
  if (slug.startsWith('-') || slug.endsWith('-')) {
    return { rule: 'hyphen-edge', message: 'slug must not start or end with a hyphen' };
  }
  // `xn--` and other `??--` labels are IDNA-encoded names; a slug is never one.
  if (slug.slice(2, 4) === '--') {
    return { rule: 'double-hyphen', message: 'slug must not have hyphens in positions 3 and 4' };
  }
  if (RESERVED_SLUGS.has(slug) || slug.startsWith('pg-') || /^pg[0-9]/.test(slug)) {
    return { rule: 'reserved', message: `slug "${slug}" is reserved` };
  }
  return null;
}
