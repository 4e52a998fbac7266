import {
  RESERVED_SLUGS,
  SLUG_MAX_LENGTH,
  SLUG_MIN_LENGTH,
  TENANT_STATUSES,
} from '@platform/tenancy';
import { OPERATOR_ROLES } from '../operators/operator-role';
import { PROVISIONING_STEP_NAMES } from '../provisioning/provisioning.pipeline';
import { PLANS } from '../tenants/dto/create-tenant.dto';

/**
 * `rules.js`, the one console module written by the server: the constants the API validates
 * with, taken from the code that validates, so the console's inline checks cannot drift from
 * the API's. (The checks themselves live in public/validation.js; the e2e test compares them
 * with `slugViolation` on a list of hostile slugs.)
 */
export function consoleRulesModule(platformDomain: string): string {
  const constants: Record<string, unknown> = {
    PLATFORM_DOMAIN: platformDomain,
    SLUG_MIN_LENGTH,
    SLUG_MAX_LENGTH,
    RESERVED_SLUGS: [...RESERVED_SLUGS].sort(),
    PLANS,
    TENANT_STATUSES,
    OPERATOR_ROLES,
    PROVISIONING_STEPS: PROVISIONING_STEP_NAMES,
  };
  const lines = Object.entries(constants).map(([name, value]) =>
    Array.isArray(value)
      ? `export const ${name} = Object.freeze(${JSON.stringify(value)});`
      : `export const ${name} = ${JSON.stringify(value)};`,
  );
  return `// Written by the control plane (console-rules.ts) from the API's own rules.\n${lines.join('\n')}\n`;
}
