import { randomBytes } from 'node:crypto';

export const MIN_PASSWORD_LENGTH = 12;
/** argon2 takes any length; this bounds the work one request can ask of it. */
export const MAX_PASSWORD_LENGTH = 256;
const MIN_DISTINCT_CHARACTERS = 5;

/**
 * The first passwords every guessing list tries that are also ≥ 12 characters. A short list on
 * purpose (NIST SP 800-63B asks for a check against known-bad passwords; the length rule already
 * removes most of them, and the login throttle bounds online guessing of the rest).
 */
const COMMON_PASSWORDS = new Set([
  '123456789012',
  '1234567890123',
  '12345678901234',
  'password1234',
  'password12345',
  'password123456',
  'passwordpassword',
  'qwertyuiop12',
  'qwertyuiopasdf',
  'qwerty123456',
  '1q2w3e4r5t6y',
  '1qaz2wsx3edc',
  'iloveyou1234',
  'letmein12345',
  'welcome12345',
  'administrator',
  'admin1234567',
  'adminadmin123',
  'changeme1234',
  'trustno11234',
  'correcthorsebatterystaple',
  'correct horse battery staple',
]);

/**
 * Why `password` may not be an operator's password, or null when it may. Rules: at least 12
 * characters, not the e-mail address (or its local part), not a well-known password, and not
 * one or two characters repeated.
 */
export function passwordProblem(password: string, email: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) {
    return `password must be at least ${MIN_PASSWORD_LENGTH} characters`;
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    return `password must be at most ${MAX_PASSWORD_LENGTH} characters`;
  }
  const lowered = password.toLowerCase();
  const address = email.trim().toLowerCase();
  const localPart = address.split('@')[0] ?? '';
  if (lowered === address || lowered === localPart || lowered.includes(address)) {
    return 'password must not be the e-mail address';
  }
  if (COMMON_PASSWORDS.has(lowered)) return 'password is too common';
  if (new Set(password).size < MIN_DISTINCT_CHARACTERS) {
    return `password must use at least ${MIN_DISTINCT_CHARACTERS} different characters`;
  }
  return null;
}

/** A password for a new or reset account, shown once: 144 random bits, 24 characters. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}
