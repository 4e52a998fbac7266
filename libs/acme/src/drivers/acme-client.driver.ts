import { Logger } from '@nestjs/common';
import * as acme from 'acme-client';
import { X509Certificate, createPrivateKey, generateKeyPair } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type Agent } from 'node:https';
import { promisify } from 'node:util';
import { AcmeError } from '../acme.exception';
import type {
  AcmeOptions,
  CertificateAuthority,
  CertificateOrder,
  ChallengeSolver,
  IssuedCertificate,
} from '../acme.port';
import { certificateInfo } from '../certificate-info.util';
import {
  createDirectoryTrust,
  withDirectoryTrust,
  type DirectoryTrust,
} from './directory-trust.util';

// A health check or an issuance job should learn quickly that the directory is down;
// acme-client's own retries (5 attempts, 5 s apart and growing) are for hiccups mid-order.
const PROBE_TIMEOUT_MS = 10_000;
// acme-client's backoff is exponential from backoffMin, capped here; its default cap.
const BACKOFF_MAX_MS = 30_000;
// Let's Encrypt rejects a CSR whose common name is longer (RFC 5280 ub-common-name).
const MAX_COMMON_NAME = 64;
// A resumed order in these states still leads to a certificate; `invalid` does not.
const RESUMABLE_STATUSES = new Set(['pending', 'ready', 'processing', 'valid']);

const generateKeyPairAsync = promisify(generateKeyPair);

interface PendingChallenge {
  identifier: string;
  token: string;
  keyAuthorization: string;
  challenge: acme.Authorization['challenges'][number];
}

/**
 * The certificate authority over acme-client's low-level API (not `client.auto()`): an order
 * is created, recorded by the caller, then driven step by step, which is what lets a worker
 * that died mid-issuance pick the same order up again by its URL.
 */
export class AcmeClientCertificateAuthority implements CertificateAuthority {
  private readonly logger = new Logger('Acme');
  private readonly directoryUrl: string;
  private readonly trust?: DirectoryTrust;
  private client?: Promise<acme.Client>;

  constructor(private readonly options: AcmeOptions) {
    this.directoryUrl = options.directoryUrl;
    try {
      new URL(options.directoryUrl);
    } catch (err) {
      throw new AcmeError(this.directoryUrl, 'the directory URL is not a URL', { cause: err });
    }
    if (options.directoryCaPem) {
      this.trust = createDirectoryTrust(options.directoryUrl, options.directoryCaPem);
    }
  }

  async check(): Promise<void> {
    await this.probeDirectory();
  }

  issue(order: CertificateOrder): Promise<IssuedCertificate> {
    return withDirectoryTrust(this.trust, () => this.issueTrusted(order));
  }

  private async issueTrusted(order: CertificateOrder): Promise<IssuedCertificate> {
    const names = normalizeNames(order.names);
    if (names.length === 0) throw new AcmeError(this.directoryUrl, 'an order needs a name');
    const label = names.join(', ');
    try {
      await this.probeDirectory();
      const client = await this.step('registering the account', () => this.accountClient());
      const privateKeyPem =
        order.privateKeyPem ?? (await this.step('generating a key', generatePrivateKey));

      let acmeOrder = order.resumeOrderUrl
        ? await this.resumableOrder(client, order.resumeOrderUrl, names, order.privateKeyPem)
        : undefined;
      if (!acmeOrder) {
        const created = await this.step(`creating an order for ${label}`, () =>
          client.createOrder({ identifiers: names.map((value) => ({ type: 'dns', value })) }),
        );
        await this.step(`recording order ${created.url}`, async () =>
          order.onOrderCreated?.(created.url, privateKeyPem),
        );
        acmeOrder = created;
      }
      const orderUrl = acmeOrder.url;

      if (acmeOrder.status === 'pending') {
        const pending = acmeOrder;
        await this.authorize(client, pending, order.solver);
        acmeOrder = await this.step(`waiting for order ${orderUrl} to be ready`, async () => ({
          // The polled object comes back without the `url` that finalizeOrder() needs.
          ...(await client.waitForValidStatus(pending)),
          url: orderUrl,
        }));
      }
      if (acmeOrder.status === 'ready') {
        const ready = acmeOrder;
        acmeOrder = await this.step(`finalizing order ${orderUrl}`, async () => {
          const [, csr] = await acme.crypto.createCsr(
            {
              commonName: names[0].length <= MAX_COMMON_NAME ? names[0] : undefined,
              altNames: names,
            },
            privateKeyPem,
          );
          return client.finalizeOrder(ready, csr);
        });
      }
      const finalized = acmeOrder;
      const certificatePem = await this.step(`downloading the certificate of ${orderUrl}`, () =>
        client.getCertificate(finalized),
      );
      return this.issuedCertificate(certificatePem, privateKeyPem, orderUrl);
    } catch (err) {
      throw this.wrap(`issuing ${label}`, err);
    }
  }

  /**
   * The order at `url` if it can still produce a certificate for exactly these names with the
   * key we hold; otherwise undefined (a new order is created). An order the CA no longer knows
   * (expired, other account) is also "not resumable"; a network failure is an error.
   */
  private async resumableOrder(
    client: acme.Client,
    url: string,
    names: string[],
    privateKeyPem: string | undefined,
  ): Promise<acme.Order | undefined> {
    let existing: acme.Order;
    try {
      // getOrder only reads `url`; the rest of the shape is what the CA answers.
      existing = await client.getOrder({ url } as acme.Order);
    } catch (err) {
      if (isNetworkError(err)) throw this.wrap(`reading order ${url}`, err);
      this.logger.warn(`ACME order ${url} cannot be resumed (${errorMessage(err)}); new order`);
      return undefined;
    }
    const orderNames = normalizeNames(existing.identifiers.map((identifier) => identifier.value));
    const reasons = [
      !RESUMABLE_STATUSES.has(existing.status) && `its status is ${existing.status}`,
      orderNames.join() !== names.join() && `it is for ${orderNames.join(', ')}`,
      // Once finalized, the certificate is bound to the CSR's key: without it, it is useless.
      (existing.status === 'processing' || existing.status === 'valid') &&
        privateKeyPem === undefined &&
        'it is finalized and its private key was not given',
    ].filter((reason): reason is string => typeof reason === 'string');
    if (reasons.length > 0) {
      this.logger.warn(`ACME order ${url} is not resumed: ${reasons.join('; ')}; new order`);
      return undefined;
    }
    return existing;
  }

  /**
   * Publishes every pending authorization's challenge at once (the solver serializes what must
   * be), answers them, and always withdraws what was published, whether or not validation
   * passed.
   */
  private async authorize(
    client: acme.Client,
    order: acme.Order,
    solver: ChallengeSolver,
  ): Promise<void> {
    const authorizations = await this.step(`reading the authorizations of ${order.url}`, () =>
      client.getAuthorizations(order),
    );
    const challenges: PendingChallenge[] = [];
    for (const authz of authorizations) {
      // The CA names a wildcard authorization without its `*.`; solvers and messages get it back.
      const identifier = authz.wildcard ? `*.${authz.identifier.value}` : authz.identifier.value;
      if (authz.status === 'valid') continue; // reused from an earlier order or a resumed one
      if (authz.status !== 'pending') {
        throw new AcmeError(
          this.directoryUrl,
          `the authorization for ${identifier} is ${authz.status}`,
        );
      }
      const challenge = authz.challenges.find((candidate) => candidate.type === solver.type);
      if (!challenge) {
        const offered = authz.challenges.map((candidate) => candidate.type).join(', ');
        throw new AcmeError(
          this.directoryUrl,
          `no ${solver.type} challenge for ${identifier} (offered: ${offered})`,
        );
      }
      const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
      challenges.push({ identifier, token: challenge.token, keyAuthorization, challenge });
    }

    const prepared: PendingChallenge[] = [];
    try {
      const preparations = await Promise.allSettled(
        challenges.map(async (pending) => {
          try {
            await solver.prepare(pending.identifier, pending.token, pending.keyAuthorization);
          } finally {
            // Also after a failure: a half-applied change is still worth withdrawing.
            prepared.push(pending);
          }
        }),
      );
      throwFirstRejection(preparations, (index, err) =>
        this.wrap(
          `publishing the ${solver.type} challenge for ${challenges[index].identifier}`,
          err,
        ),
      );

      // allSettled, not all: every challenge is waited for before cleanup withdraws the records,
      // so no poll is left running in the background after a sibling failed.
      const validations = await Promise.allSettled(
        challenges.map(async ({ challenge }) => {
          // A resumed order may have been answered already (processing or valid).
          if (challenge.status === 'pending') await client.completeChallenge(challenge);
          await client.waitForValidStatus(challenge);
        }),
      );
      throwFirstRejection(validations, (index, err) =>
        this.wrap(`the ${solver.type} challenge for ${challenges[index].identifier} failed`, err),
      );
    } finally {
      await this.cleanup(solver, prepared);
    }
  }

  // A cleanup failure is logged, not thrown: it must not hide the issuance's own error, nor
  // throw away a certificate that was issued. What is left is a stale TXT value, harmless.
  private async cleanup(solver: ChallengeSolver, prepared: PendingChallenge[]): Promise<void> {
    const results = await Promise.allSettled(
      prepared.map((pending) =>
        solver.cleanup(pending.identifier, pending.token, pending.keyAuthorization),
      ),
    );
    results.forEach((result, index) => {
      if (result.status === 'rejected') {
        this.logger.warn(
          `ACME (${this.directoryUrl}): cleaning up the ${solver.type} challenge for ` +
            `${prepared[index].identifier} failed: ${errorMessage(result.reason)}`,
        );
      }
    });
  }

  private issuedCertificate(
    certificatePem: string,
    privateKeyPem: string,
    orderUrl: string,
  ): IssuedCertificate {
    const leaf = new X509Certificate(certificatePem);
    // A resumed, already finalized order may have been signed for another key.
    if (!leaf.checkPrivateKey(createPrivateKey(privateKeyPem))) {
      throw new AcmeError(
        this.directoryUrl,
        `the certificate of order ${orderUrl} does not match the private key given`,
      );
    }
    return { ...certificateInfo(certificatePem), certificatePem, privateKeyPem, orderUrl };
  }

  private accountClient(): Promise<acme.Client> {
    // Memoized: one account registration per process; a failed one is retried next time.
    this.client ??= this.registerAccount().catch((err: unknown) => {
      this.client = undefined;
      throw err;
    });
    return this.client;
  }

  private async registerAccount(): Promise<acme.Client> {
    const { accountKeys } = this.options;
    let accountKey = await accountKeys.load();
    if (accountKey === null) {
      const generated = await generatePrivateKey();
      await accountKeys.save(generated);
      // Two workers may race to create the key; the store decides which one is kept.
      accountKey = (await accountKeys.load()) ?? generated;
    }
    const pollMs = this.options.pollIntervalMs;
    const client = new acme.Client({
      directoryUrl: this.directoryUrl,
      accountKey,
      ...(pollMs === undefined
        ? {}
        : { backoffMin: pollMs, backoffMax: Math.max(pollMs, BACKOFF_MAX_MS) }),
    });
    // Idempotent at the CA: an existing account for this key is found and its contact updated.
    await client.createAccount({
      termsOfServiceAgreed: true,
      contact: [`mailto:${this.options.accountEmail}`],
    });
    return client;
  }

  /** One GET of the directory, no retries: fails fast with the reason when the CA is away. */
  private async probeDirectory(): Promise<void> {
    try {
      const { status, body } = await get(this.directoryUrl, this.trust?.agent);
      if (status !== 200) throw new Error(`the directory answered HTTP ${status}`);
      if (!isDirectory(body)) throw new Error('the directory answer is not an ACME directory');
    } catch (err) {
      throw this.wrap('the directory is unreachable', err);
    }
  }

  private async step<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.wrap(what, err);
    }
  }

  private wrap(what: string, err: unknown): AcmeError {
    if (err instanceof AcmeError) return err;
    return new AcmeError(this.directoryUrl, `${what}: ${errorMessage(err)}`, { cause: err });
  }
}

/** ECDSA P-256: accepted by every ACME CA, smaller and faster than RSA 2048. */
async function generatePrivateKey(): Promise<string> {
  const { privateKey } = await generateKeyPairAsync('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return privateKey;
}

/** Lower-case, no trailing dot, unique, sorted: the order's identity, whatever the caller wrote. */
function normalizeNames(names: string[]): string[] {
  const normalized = names.map((name) => name.trim().toLowerCase().replace(/\.$/, ''));
  return [...new Set(normalized.filter((name) => name.length > 0))].sort(byApexFirst);
}

// Sorted so the apex (a short, plain name) tends to become the CSR's common name.
function byApexFirst(a: string, b: string): number {
  const wildcard = Number(a.startsWith('*.')) - Number(b.startsWith('*.'));
  return wildcard !== 0 ? wildcard : a.localeCompare(b);
}

function throwFirstRejection(
  results: PromiseSettledResult<unknown>[],
  toError: (index: number, reason: unknown) => Error,
): void {
  const index = results.findIndex((result) => result.status === 'rejected');
  if (index === -1) return;
  const failed = results[index] as PromiseRejectedResult;
  throw toError(index, failed.reason);
}

function isDirectory(body: string): boolean {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null && 'newOrder' in parsed;
  } catch {
    return false;
  }
}

function get(url: string, agent: Agent | undefined): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage): void => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    };
    const options = { method: 'GET', timeout: PROBE_TIMEOUT_MS };
    const req = url.startsWith('https:')
      ? httpsRequest(url, { ...options, agent }, onResponse)
      : httpRequest(url, options, onResponse);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

// acme-client surfaces transport failures as axios errors and CA answers as plain Errors
// carrying the problem document's detail.
function isNetworkError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'isAxiosError' in err;
}

function errorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // Node's connection errors (ECONNREFUSED, ...) can have an empty message inside AggregateError.
  const code = 'code' in err && typeof err.code === 'string' ? err.code : undefined;
  if (err.message)
    return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  return code ?? err.name;
}
