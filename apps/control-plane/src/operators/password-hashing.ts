import { argon2id, hash, verify } from 'argon2';

/**
 * argon2id with OWASP's minimum settings (19 MiB, 2 passes, 1 lane: ~50 ms here) rather than
 * the library's 64 MiB × 4 lanes: sign-in is reachable without a credential, and every attempt
 * costs the server this memory, so a burst of parallel attempts must not exhaust it. Hashes keep
 * their own parameters, so raising these later re-hashes nothing and locks nobody out.
 */
const OPTIONS = { type: argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  return verify(passwordHash, password);
}
