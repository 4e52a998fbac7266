/** The cipher for private keys at rest (certificates, ACME account); null without ACME. */
export const PRIVATE_KEY_CIPHER = Symbol('PRIVATE_KEY_CIPHER');
