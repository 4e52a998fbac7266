/**
 * HTTPS on the data plane, against the real registry and Redis: the certificate is chosen by
 * SNI (the platform wildcard for subdomains, each custom domain's own), the Host header still
 * selects the tenant, an unknown name gets no certificate at all, a replaced certificate is
 * served after the tenant-changed event without a restart, HTTP-01 proofs are answered for any
 * host, and plain HTTP to a tenant is redirected to HTTPS (except the ACME path).
 *
 * Certificates come from a local CA made with openssl (root → intermediate → leaf, the chain
 * stored leaf first as the worker stores Pebble's), which takes milliseconds; the ACME side is
 * covered against Pebble in libs/acme.
 */
import { execFile } from 'node:child_process';
import { X509Certificate, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import request from 'supertest';
import { PrivateKeyCipher, RedisHttp01ChallengeStore } from '@platform/acme';
import { TenantEvents } from '@platform/tenant-events';
import {
  PLATFORM_DOMAIN,
  startPlatform,
  type RunningPlatform,
  type TenantSummary,
} from '../../../test/platform-harness';

const execFileAsync = promisify(execFile);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const WILDCARD = `*.${PLATFORM_DOMAIN}`;
const ALPHA_DOMAIN = 'app.alpha-corp.test';
const BETA_DOMAIN = 'portal.beta-corp.test';
/** Active, but no certificate was ever stored for it. */
const BETA_UNCERTIFIED_DOMAIN = 'shop.beta-corp.test';
/** Has an issued certificate, but ownership is not verified yet. */
const ALPHA_PENDING_DOMAIN = 'pending.alpha-corp.test';
/** Active for beta, but its issued certificate was ordered for alpha. */
const BETA_MOVED_DOMAIN = 'moved.beta-corp.test';

interface IssuedPair {
  keyPem: string;
  /** Leaf first, then the intermediate. */
  chainPem: string;
  serialNumber: string;
}

/** A root and an intermediate, made with openssl in a temporary folder. */
class LocalCa {
  private issued = 0;

  private constructor(
    private readonly dir: string,
    readonly rootPem: string,
  ) {}

  static async create(dir: string): Promise<LocalCa> {
    await openssl(dir, 'root', ['-subj', '/CN=Data plane test root']);
    await openssl(dir, 'intermediate', [
      ...['-CA', join(dir, 'root.crt'), '-CAkey', join(dir, 'root.key')],
      ...['-subj', '/CN=Data plane test intermediate'],
      ...['-addext', 'basicConstraints=critical,CA:TRUE'],
      ...['-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    ]);
    return new LocalCa(dir, await readFile(join(dir, 'root.crt'), 'utf8'));
  }

  async issue(names: readonly string[]): Promise<IssuedPair> {
    const name = `leaf-${++this.issued}`;
    await openssl(this.dir, name, [
      ...['-CA', join(this.dir, 'intermediate.crt')],
      ...['-CAkey', join(this.dir, 'intermediate.key')],
      ...['-subj', `/CN=${names[0]}`],
      ...['-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`],
      ...['-addext', 'basicConstraints=critical,CA:FALSE'],
    ]);
    const leaf = await readFile(join(this.dir, `${name}.crt`), 'utf8');
    const intermediate = await readFile(join(this.dir, 'intermediate.crt'), 'utf8');
    return {
      keyPem: await readFile(join(this.dir, `${name}.key`), 'utf8'),
      chainPem: leaf + intermediate,
      serialNumber: new X509Certificate(leaf).serialNumber,
    };
  }
}

async function openssl(dir: string, name: string, extra: string[]): Promise<void> {
  await execFileAsync('openssl', [
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'],
    ...['-days', '2', '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`)],
    ...extra,
  ]);
}

function jsonOf(contentType: string | undefined, body: Buffer): Record<string, unknown> {
  return contentType?.startsWith('application/json')
    ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>)
    : {};
}

interface PeerCertificate {
  subject: string;
  subjectAltName: string;
  serialNumber: string;
  /** The chain verified against the test root and the name matched the SNI name. */
  authorized: boolean;
}

describe('data plane HTTPS: certificates by SNI, HTTP-01, redirect', () => {
  const encryptionKey = randomBytes(32).toString('hex');
  const cipher = PrivateKeyCipher.fromSecret(encryptionKey);
  let platform: RunningPlatform;
  let db: Client;
  let redis: Redis;
  let events: TenantEvents;
  let ca: LocalCa;
  let caDir: string;
  let httpsPort: number;
  let alpha: TenantSummary;
  let beta: TenantSummary;
  const serials: Record<string, string> = {};

  /** A bare TLS handshake; verification is reported, not enforced, so refusals are the server's. */
  function handshake(serverName: string | undefined): Promise<PeerCertificate> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port: httpsPort,
        // An IP host sends no SNI; `servername` adds it.
        ...(serverName === undefined ? {} : { servername: serverName }),
        ca: ca.rootPem,
        rejectUnauthorized: false,
      });
      socket.setTimeout(5_000, () => socket.destroy(new Error('handshake timed out')));
      socket.once('secureConnect', () => {
        const peer = socket.getPeerCertificate();
        resolve({
          subject: String(peer.subject.CN),
          subjectAltName: peer.subjectaltname ?? '',
          serialNumber: peer.serialNumber,
          authorized: socket.authorized,
        });
        socket.end();
      });
      socket.once('error', reject);
    });
  }

  /** An HTTPS request that verifies the certificate against the test root for `serverName`. */
  function httpsGet(
    serverName: string,
    path: string,
    host = serverName,
  ): Promise<{ status: number; body: Record<string, unknown>; certificate: PeerCertificate }> {
    return new Promise((resolve, reject) => {
      const outgoing = httpsRequest(
        {
          host: '127.0.0.1',
          port: httpsPort,
          servername: serverName,
          path,
          headers: { Host: host },
          ca: ca.rootPem,
          agent: false,
        },
        (response) => {
          const peer = response.socket as TLSSocket;
          const certificate = peer.getPeerCertificate();
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              body: jsonOf(response.headers['content-type'], Buffer.concat(chunks)),
              certificate: {
                subject: String(certificate.subject.CN),
                subjectAltName: certificate.subjectaltname ?? '',
                serialNumber: certificate.serialNumber,
                authorized: peer.authorized,
              },
            }),
          );
        },
      );
      outgoing.on('error', reject);
      outgoing.end();
    });
  }

  async function storeCertificate(
    subject: string,
    names: readonly string[],
    tenantId: string | null,
    pair: IssuedPair,
  ): Promise<void> {
    const leaf = new X509Certificate(pair.chainPem);
    await db.query(
      `INSERT INTO platform.certificates (id, subject, names, tenant_id, status,
         private_key_encrypted, certificate_pem, serial_number, not_before, not_after)
       VALUES ($1, $2, $3, $4, 'issued', $5, $6, $7, $8, $9)`,
      [
        randomUUID(),
        subject,
        names,
        tenantId,
        cipher.encrypt(pair.keyPem),
        pair.chainPem,
        pair.serialNumber,
        new Date(leaf.validFrom),
        new Date(leaf.validTo),
      ],
    );
  }

  /** What the renewal does: the old row becomes `replaced`, the new one `issued`, atomically. */
  async function replaceCertificate(
    subject: string,
    names: readonly string[],
    tenantId: string | null,
  ): Promise<IssuedPair> {
    const pair = await ca.issue(names);
    await db.query('BEGIN');
    try {
      await db.query(
        `UPDATE platform.certificates SET status = 'replaced', updated_at = now()
          WHERE subject = $1 AND status = 'issued'`,
        [subject],
      );
      await storeCertificate(subject, names, tenantId, pair);
      await db.query('COMMIT');
    } catch (error) {
      await db.query('ROLLBACK');
      throw error;
    }
    return pair;
  }

  async function addCustomDomain(tenantId: string, hostname: string, status: string) {
    await db.query(
      `INSERT INTO platform.tenant_domains (tenant_id, hostname, kind, status, verified_at,
         activated_at)
       VALUES ($1, $2, 'custom', $3, now(), CASE WHEN $3 = 'active' THEN now() END)`,
      [tenantId, hostname, status],
    );
  }

  async function issueAndStore(subject: string, names: string[], tenantId: string | null) {
    const pair = await ca.issue(names);
    await storeCertificate(subject, names, tenantId, pair);
    serials[subject] = pair.serialNumber;
  }

  /**
   * Polls handshakes until `serverName` is served `serial` (pub/sub is asynchronous). A refused
   * handshake counts as "not yet" until the deadline: after an event that makes a hostname
   * served again, the replica refuses it until the event arrives.
   */
  async function waitForSerial(serverName: string, serial: string): Promise<PeerCertificate> {
    const deadline = Date.now() + 5_000;
    for (;;) {
      try {
        const peer = await handshake(serverName);
        if (peer.serialNumber === serial || Date.now() > deadline) return peer;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  beforeAll(async () => {
    caDir = await mkdtemp(join(tmpdir(), 'data-plane-tls-'));
    ca = await LocalCa.create(caDir);
    platform = await startPlatform({
      dataPlaneEnv: {
        DATA_PLANE_HTTPS_PORT: '0',
        CERTIFICATE_ENCRYPTION_KEY: encryptionKey,
        // Long: a certificate that changes during this suite changed because of the event.
        CERTIFICATE_CACHE_TTL_MS: '600000',
        HTTPS_REDIRECT: 'true',
      },
    });
    httpsPort = platform.dataPlaneHttpsPort!;
    db = new Client({ connectionString: platform.database.url });
    await db.connect();
    redis = new Redis(REDIS_URL);
    events = new TenantEvents({ redisUrl: REDIS_URL, prefix: platform.redisPrefix });

    [alpha, beta] = await Promise.all([
      platform.createTenant('alpha'),
      platform.createTenant('beta'),
    ]);
    await addCustomDomain(alpha.id, ALPHA_DOMAIN, 'active');
    await addCustomDomain(beta.id, BETA_DOMAIN, 'active');
    await addCustomDomain(beta.id, BETA_UNCERTIFIED_DOMAIN, 'active');
    await addCustomDomain(alpha.id, ALPHA_PENDING_DOMAIN, 'verified');
    await addCustomDomain(beta.id, BETA_MOVED_DOMAIN, 'active');
    await issueAndStore(WILDCARD, [WILDCARD, PLATFORM_DOMAIN], null);
    await issueAndStore(ALPHA_DOMAIN, [ALPHA_DOMAIN], alpha.id);
    await issueAndStore(BETA_DOMAIN, [BETA_DOMAIN], beta.id);
    await issueAndStore(ALPHA_PENDING_DOMAIN, [ALPHA_PENDING_DOMAIN], alpha.id);
    await issueAndStore(BETA_MOVED_DOMAIN, [BETA_MOVED_DOMAIN], alpha.id);
  });

  afterAll(async () => {
    await events?.close();
    redis?.disconnect();
    await db?.end();
    await platform?.stop();
    if (caDir) await rm(caDir, { recursive: true, force: true });
  });

  it('listens on its own port, beside plain HTTP', () => {
    expect(httpsPort).toBeGreaterThan(0);
    expect(platform.dataPlaneUrl).not.toContain(`:${httpsPort}`);
  });

  describe('certificate by SNI, tenant by Host', () => {
    it('serves the wildcard to a tenant subdomain, with the chain, and that tenant answers', async () => {
      const response = await httpsGet(platform.hostOf('alpha'), '/api/tenant');
      expect(response.certificate).toMatchObject({
        subject: WILDCARD,
        serialNumber: serials[WILDCARD],
        authorized: true, // leaf + intermediate served; verifies against the root alone
      });
      expect(response.certificate.subjectAltName).toContain(`DNS:${PLATFORM_DOMAIN}`);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ id: alpha.id, slug: 'alpha' });

      const other = await httpsGet(platform.hostOf('beta'), '/api/tenant');
      expect(other.certificate.serialNumber).toBe(serials[WILDCARD]);
      expect(other.body).toMatchObject({ id: beta.id, slug: 'beta' });
    });

    it('serves the wildcard for the apex and any single-label subdomain, in any letter case', async () => {
      await expect(handshake(PLATFORM_DOMAIN)).resolves.toMatchObject({
        serialNumber: serials[WILDCARD],
        authorized: true,
      });
      await expect(handshake('ALPHA.Platform.Test')).resolves.toMatchObject({
        serialNumber: serials[WILDCARD],
      });
      // The certificate is the platform's, not a tenant's: the Host still has to resolve.
      const unknown = await httpsGet('nobody-here.platform.test', '/api/tenant');
      expect(unknown.certificate.serialNumber).toBe(serials[WILDCARD]);
      expect(unknown.status).toBe(404);
      expect(unknown.body).toMatchObject({ error: 'unknown_tenant' });
    });

    it("serves each custom domain its own certificate and that domain's tenant", async () => {
      const alphaResponse = await httpsGet(ALPHA_DOMAIN, '/api/tenant');
      expect(alphaResponse.certificate).toMatchObject({
        subject: ALPHA_DOMAIN,
        serialNumber: serials[ALPHA_DOMAIN],
        authorized: true,
      });
      expect(alphaResponse.status).toBe(200);
      expect(alphaResponse.body).toMatchObject({ id: alpha.id, slug: 'alpha' });

      const betaResponse = await httpsGet(BETA_DOMAIN, '/api/tenant');
      expect(betaResponse.certificate).toMatchObject({
        subject: BETA_DOMAIN,
        serialNumber: serials[BETA_DOMAIN],
        authorized: true,
      });
      expect(betaResponse.body).toMatchObject({ id: beta.id, slug: 'beta' });
    });

    it('refuses the handshake for names no certificate may answer', async () => {
      const refused = [
        'evil.example.com',
        'alpha-corp.test', // the apex of a custom domain
        'beta-corp.test',
        'a.b.platform.test', // deeper than the wildcard covers
        'platform.test.evil.example', // the platform domain as a prefix
        'notplatform.test',
        BETA_UNCERTIFIED_DOMAIN, // active, but no certificate
        ALPHA_PENDING_DOMAIN, // an issued certificate, but the domain is not active
        BETA_MOVED_DOMAIN, // active for beta, certificate ordered for alpha
      ];
      for (const serverName of refused) {
        await expect(handshake(serverName)).rejects.toThrow(/handshake failure|ECONNRESET/);
      }
    });

    it('refuses a handshake without SNI (there is no default certificate)', async () => {
      await expect(handshake(undefined)).rejects.toThrow(/handshake failure/);
    });

    it('counts refusals in the metrics', async () => {
      await expect(handshake('evil.example.com')).rejects.toThrow();
      const metrics = await request(platform.dataPlaneUrl).get('/metrics');
      expect(metrics.text).toMatch(/data_plane_tls_sni_lookups_total\{result="unknown_name"\} \d/);
      expect(metrics.text).toMatch(/data_plane_tls_handshake_failures_total [1-9]/);
    });

    it('does not let a Host header reach past the tenant the certificate names (isolation)', async () => {
      // The connection is alpha's; the Host asks for beta: beta's data, never alpha's mixed in.
      const crossed = await httpsGet(ALPHA_DOMAIN, '/api/tenant', BETA_DOMAIN);
      expect(crossed.certificate.serialNumber).toBe(serials[ALPHA_DOMAIN]);
      expect(crossed.body).toMatchObject({ id: beta.id });
      const unknownHost = await httpsGet(ALPHA_DOMAIN, '/api/tenant', 'evil.example.com');
      expect(unknownHost.status).toBe(404);
    });
  });

  describe('renewal', () => {
    it('serves a replaced custom-domain certificate after the tenant-changed event, without restart', async () => {
      const before = await handshake(ALPHA_DOMAIN);
      expect(before.serialNumber).toBe(serials[ALPHA_DOMAIN]);

      const renewed = await replaceCertificate(ALPHA_DOMAIN, [ALPHA_DOMAIN], alpha.id);
      // Cached: until told, the replica keeps the context it has (the TTL is 10 minutes).
      expect((await handshake(ALPHA_DOMAIN)).serialNumber).toBe(serials[ALPHA_DOMAIN]);

      await events.publishTenantChanged(alpha.id, [ALPHA_DOMAIN]);
      const after = await waitForSerial(ALPHA_DOMAIN, renewed.serialNumber);
      expect(after).toMatchObject({ serialNumber: renewed.serialNumber, authorized: true });
      // The other tenant's certificate is untouched, and alpha still answers on its domain.
      expect((await handshake(BETA_DOMAIN)).serialNumber).toBe(serials[BETA_DOMAIN]);
      const response = await httpsGet(ALPHA_DOMAIN, '/api/tenant');
      expect(response.body).toMatchObject({ id: alpha.id });
      serials[ALPHA_DOMAIN] = renewed.serialNumber;
    });

    it('serves a replaced wildcard after an event that names it', async () => {
      const renewed = await replaceCertificate(WILDCARD, [WILDCARD, PLATFORM_DOMAIN], null);
      expect((await handshake(platform.hostOf('beta'))).serialNumber).toBe(serials[WILDCARD]);
      await events.publishTenantChanged(randomUUID(), [WILDCARD]);
      const after = await waitForSerial(platform.hostOf('beta'), renewed.serialNumber);
      expect(after).toMatchObject({ serialNumber: renewed.serialNumber, authorized: true });
      serials[WILDCARD] = renewed.serialNumber;
    });

    it('stops serving a custom domain once it is no longer active', async () => {
      await db.query(
        `UPDATE platform.tenant_domains SET status = 'certificate_failed' WHERE hostname = $1`,
        [BETA_DOMAIN],
      );
      await events.publishTenantChanged(beta.id, [BETA_DOMAIN]);
      const deadline = Date.now() + 5_000;
      let refused = false;
      while (!refused && Date.now() < deadline) {
        refused = await handshake(BETA_DOMAIN).then(
          () => false,
          () => true,
        );
      }
      expect(refused).toBe(true);
      await db.query(`UPDATE platform.tenant_domains SET status = 'active' WHERE hostname = $1`, [
        BETA_DOMAIN,
      ]);
      await events.publishTenantChanged(beta.id, [BETA_DOMAIN]);
      expect((await waitForSerial(BETA_DOMAIN, serials[BETA_DOMAIN])).serialNumber).toBe(
        serials[BETA_DOMAIN],
      );
    });
  });

  describe('ACME HTTP-01 path', () => {
    const token = `tok_${randomBytes(24).toString('base64url')}`;
    const keyAuthorization = `${token}.${randomBytes(32).toString('base64url')}`;

    beforeAll(async () => {
      await new RedisHttp01ChallengeStore(redis, platform.redisPrefix).put(
        token,
        keyAuthorization,
        60,
      );
    });

    it('answers the stored key authorization for any host, as text/plain', async () => {
      for (const host of ['not-yet-active.example.org', ALPHA_DOMAIN, platform.hostOf('beta')]) {
        const response = await request(platform.dataPlaneUrl)
          .get(`/.well-known/acme-challenge/${token}`)
          .set('Host', host)
          .redirects(0);
        expect(response.status).toBe(200); // never redirected, even for a tenant's host
        expect(response.headers['content-type']).toMatch(/^text\/plain/);
        expect(response.text).toBe(keyAuthorization);
      }
    });

    it('answers 404 for an unknown token and for malformed ones', async () => {
      // Stored under a key that is not a valid token: the lookup must not even happen.
      await redis.set(`${platform.redisPrefix}:acme:http-01:short`, 'leaked', 'EX', 60);
      const paths = [
        `/.well-known/acme-challenge/${randomBytes(24).toString('base64url')}`,
        '/.well-known/acme-challenge/short',
        '/.well-known/acme-challenge/..%2F..%2Fapi%2Ftenant',
        `/.well-known/acme-challenge/${token}%2F..`,
        `/.well-known/acme-challenge/${'a'.repeat(200)}`,
        '/.well-known/acme-challenge/',
      ];
      for (const path of paths) {
        const response = await request(platform.dataPlaneUrl)
          .get(path)
          .set('Host', 'not-yet-active.example.org');
        expect({ path, status: response.status }).toEqual({ path, status: 404 });
        expect(response.text).not.toContain('leaked');
      }
    });
  });

  describe('redirect from plain HTTP', () => {
    const http = () => request(platform.dataPlaneUrl);

    it('sends a tenant subdomain to HTTPS with its path and query, method kept (308)', async () => {
      const response = await http()
        .get('/api/tenant?view=full')
        .set('Host', `${platform.hostOf('alpha')}:8080`)
        .redirects(0);
      expect(response.status).toBe(308);
      expect(response.headers.location).toBe(
        `https://${platform.hostOf('alpha')}:${httpsPort}/api/tenant?view=full`,
      );
      const post = await http()
        .post('/api/auth/login')
        .set('Host', platform.hostOf('beta'))
        .send({ email: 'x@y.test', password: 'nope' })
        .redirects(0);
      expect(post.status).toBe(308);
      expect(post.headers.location).toBe(
        `https://${platform.hostOf('beta')}:${httpsPort}/api/auth/login`,
      );
    });

    it('sends an active custom domain to HTTPS too, for any path', async () => {
      const response = await http().get('/welcome').set('Host', ALPHA_DOMAIN).redirects(0);
      expect(response.status).toBe(308);
      expect(response.headers.location).toBe(`https://${ALPHA_DOMAIN}:${httpsPort}/welcome`);
      const root = await http().get('/').set('Host', ALPHA_DOMAIN).redirects(0);
      expect(root.status).toBe(308);
      expect(root.headers.location).toBe(`https://${ALPHA_DOMAIN}:${httpsPort}/`);
    });

    it('leaves health, metrics and unknown hosts alone', async () => {
      const host = platform.hostOf('alpha');
      expect((await http().get('/health/live').set('Host', host).redirects(0)).status).toBe(200);
      expect((await http().get('/metrics').set('Host', host).redirects(0)).status).toBe(200);
      const unknown = await http().get('/api/tenant').set('Host', 'evil.example.com').redirects(0);
      expect(unknown.status).toBe(404);
      expect(unknown.body).toMatchObject({ error: 'unknown_tenant' });
    });

    it('does not redirect a tenant host that has no certificate to be served', async () => {
      const response = await http()
        .get('/api/tenant')
        .set('Host', BETA_UNCERTIFIED_DOMAIN)
        .redirects(0);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ id: beta.id });
    });

    it('never redirects a request that came over HTTPS', async () => {
      const response = await httpsGet(ALPHA_DOMAIN, '/welcome');
      expect(response.status).toBe(200);
    });
  });
});
