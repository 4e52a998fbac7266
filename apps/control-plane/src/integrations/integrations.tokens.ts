/** The cipher for private keys at rest (certificates, ACME account); null without ACME. */
export const PRIVATE_KEY_CIPHER = Symbol('PRIVATE_KEY_CIPHER');

/** Where HTTP-01 proofs wait for the CA (Redis, shared with every data-plane replica). */
export const HTTP01_CHALLENGE_STORE = Symbol('HTTP01_CHALLENGE_STORE');
