/** Injection token for the {@link CertificateAuthority} that `AcmeModule` provides. */
export const CERTIFICATE_AUTHORITY = Symbol('CERTIFICATE_AUTHORITY');

export interface AcmeOptions {
  /** Let's Encrypt production or staging, or a local Pebble. */
  directoryUrl: string;
  accountEmail: string;
  /**
   * An extra CA to trust for the directory's HTTPS (Pebble's self-signed listener). It is added
   * to Node's bundled roots for requests to the directory's origin only; TLS checks are never
   * turned off.
   */
  directoryCaPem?: string;
  /** First delay between status polls (acme-client's `backoffMin`, default 5 s); tests use ~100. */
  pollIntervalMs?: number;
  /** Where the ACME account key lives. */
  accountKeys: AccountKeyStore;
}

/**
 * Persists the ACME account key (PEM). `save` is called only when `load` found none; if two
 * workers race, the store should keep the first key, and both continue with whatever `load`
 * returns after saving.
 */
export interface AccountKeyStore {
  load(): Promise<string | null>;
  save(privateKeyPem: string): Promise<void>;
}

/**
 * Publishes and withdraws the proof for one challenge type. `prepare` must resolve only once
 * the CA can see the proof (the CA validates once and fails the authorization otherwise).
 * One order calls `prepare` for all its authorizations at once, and two of them may share a
 * record name (`*.example.com` and `example.com`): a solver must keep both values.
 */
export interface ChallengeSolver {
  readonly type: 'dns-01' | 'http-01';
  /**
   * `identifier` is the authorization's name (`*.example.com` for a wildcard).
   * `keyAuthorization` is what to publish: for dns-01 already the TXT value (the base64url
   * SHA-256 digest of RFC 8555 §8.4), for http-01 the body to serve at the token's path.
   */
  prepare(identifier: string, token: string, keyAuthorization: string): Promise<void>;
  cleanup(identifier: string, token: string, keyAuthorization: string): Promise<void>;
}

export interface CertificateOrder {
  /** e.g. `['*.platform.test', 'platform.test']`. */
  names: string[];
  solver: ChallengeSolver;
  /** The certificate's key; an ECDSA P-256 key is generated when absent. */
  privateKeyPem?: string;
  /**
   * An order created earlier by an issuance that died midway. It is reused when it is still
   * pending, ready, processing or valid for the same names; otherwise a new order is created.
   * Pass the `privateKeyPem` recorded with it: a finalized order is bound to that key.
   */
  resumeOrderUrl?: string;
  /**
   * Called when a new order exists, before any challenge is published, so the caller can record
   * the order URL and key and resume after a crash. Not called when `resumeOrderUrl` is reused.
   */
  onOrderCreated?(orderUrl: string, privateKeyPem: string): Promise<void>;
}

export interface IssuedCertificate {
  /** Leaf first, then the intermediates, as the CA served them. */
  certificatePem: string;
  privateKeyPem: string;
  names: string[];
  notBefore: Date;
  notAfter: Date;
  orderUrl: string;
  serialNumber: string;
}

export interface CertificateAuthority {
  /** Runs (or resumes) one order to a certificate; every failure is an `AcmeError`. */
  issue(order: CertificateOrder): Promise<IssuedCertificate>;
  /** Resolves when the directory answers; for health checks. */
  check(): Promise<void>;
}
