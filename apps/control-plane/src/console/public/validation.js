// Inline checks that mirror the API's, so most mistakes show before a round trip. The numbers
// and lists come from rules.js, which the server writes from its own rules; the API stays the
// judge (its 400 details are shown next to the fields too).
import { RESERVED_SLUGS, SLUG_MAX_LENGTH, SLUG_MIN_LENGTH } from './rules.js';

const RESERVED = new Set(RESERVED_SLUGS);

/** Same order and messages as slugViolation() in libs/tenancy (slug.rules.ts). */
export function slugViolation(slug) {
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
  if (slug.slice(2, 4) === '--') {
    return { rule: 'double-hyphen', message: 'slug must not have hyphens in positions 3 and 4' };
  }
  if (RESERVED.has(slug) || slug.startsWith('pg-') || /^pg[0-9]/.test(slug)) {
    return { rule: 'reserved', message: `slug "${slug}" is reserved` };
  }
  return null;
}

/** The slug problem as the API words it in its 400: the message and the rule's name. */
export function slugProblem(slug) {
  const violation = slugViolation(slug);
  return violation ? `${violation.message} (rule: ${violation.rule})` : null;
}

// One @, something on both sides, a dot in the domain, no spaces: close to class-validator's
// IsEmail for what people type; anything subtler is the API's call.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@.]{2,}$/;

export function emailProblem(value, field = 'adminEmail') {
  if (!value) return `${field} is required`;
  if (value.length > 254) return `${field} must be at most 254 characters`;
  return EMAIL.test(value) ? null : `${field} must be an e-mail address`;
}

export function nameProblem(value) {
  const trimmed = value.trim();
  if (trimmed.length === 0) return 'name must not be empty';
  if (trimmed.length > 200) return 'name must be at most 200 characters';
  return null;
}

export function hostnameProblem(value) {
  if (!value) return null;
  if (value.length > 253) return 'customDomain must be at most 253 characters';
  if (!/^[a-z0-9.-]+\.[a-z0-9-]+$/i.test(value) && !/[^ -~]/.test(value)) {
    return 'customDomain must be a hostname such as app.example.com';
  }
  return null;
}
