/**
 * Custom domains with automatic HTTPS (issue 4, "What must be shown"), against real servers:
 * PowerDNS serving the platform zone and a customer's zone (`customer.test`, whose records the
 * tests publish through the PowerDNS API as the customer would), Pebble validating HTTP-01 by
 * resolving the customer's name through that PowerDNS and connecting to the data plane's plain
 * HTTP listener (bound to Pebble's challenge port), and the data plane's HTTPS listener choosing
 * certificates by SNI. The control plane, its worker and the data plane are the harness's.
 *
 * Shown: a domain goes `verified` → `active` and is served over HTTPS with a certificate that
 * chains to Pebble's root, for its tenant only; renewal (the worker's round with a later clock)
 * replaces the certificate and the data plane serves the new one without a restart; wrong or
 * missing records end in `verification_failed` with the reason and no ACME order; hostile
 * hostnames are refused and create nothing; per-tenant limits on domains and on orders; a
 * removed domain stops being served; plain HTTP redirects to HTTPS except the ACME path.
 *
 * Speed: the verification window is half a minute (long enough for the happy paths to publish
 * their records on a loaded machine), and the wrong-records domains are added in beforeAll so
 * their window runs out while the other tests run.
 */
import { X509Certificate, randomBytes } from 'node:crypto';
import { Agent, request as httpsRequest } from 'node:https';
import { connect as tlsConnect, type PeerCertificate, type TLSSocket } from 'node:tls';
import * as acme from 'acme-client';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import request from 'supertest';
import {
  Dns01Solver,
  Http01Solver,
  PrivateKeyCipher,
  RedisHttp01ChallengeStore,
} from '@platform/acme';
import { createDnsProvider, type DnsProvider } from '@platform/dns';
import { startOnboardingServers, type OnboardingServers } from '../../../test/onboarding-servers';
import {
  PLATFORM_DOMAIN,
  startPlatform,
  type RunningPlatform,
  type TenantSummary,
} from '../../../test/platform-harness';
import { CertificateRenewal } from '../src/certificates/certificate-renewal.service';
import { DomainsQueue } from '../src/domains/domains.queue';

const CUSTOMER_ZONE = 'customer.test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const WILDCARD = `*.${PLATFORM_DOMAIN}`;
const TXT_LABEL = '_platform-challenge';
/** The verification window, in minutes: the smallest the configuration accepts. */
const WINDOW_MINUTES = 0.5;
/** Generous for a loaded 2-core machine; an issuance against Pebble takes about a second. */
const PATIENCE_MS = 30_000;

interface DnsRecordToCreate {
  type: 'CNAME' | 'TXT';
  name: string;
  value: string;
}

interface DomainView {
  id: string;
  hostname: string;
  kind: string;
  status: string;
  verificationError: string | null;
  verifyUntil: string | null;
  lastCheckedAt: string | null;
  verifiedAt: string | null;
  activatedAt: string | null;
  records?: DnsRecordToCreate[];
}

interface CertificateRow {
  id: string;
  subject: string;
  names: string[];
  tenant_id: string | null;
  status: string;
  order_url: string | null;
  certificate_pem: string | null;
  serial_number: string | null;
  not_before: Date | null;
  not_after: Date | null;
}

interface Served {
  /** The leaf the server presented. */
  certificate: PeerCertificate;
  /** The chain verified against the CA given and the name matched the SNI name. */
  authorized: boolean;
  authorizationError: string | null;
}

interface HttpsAnswer extends Served {
  status: number;
  body: Record<string, unknown>;
}

type Slug = 'alpha' | 'beta' | 'gamma' | 'delta' | 'epsilon';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `probe` returns a value, or fails naming what it waited for. */
async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = PATIENCE_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Splits a PEM chain into certificates, in order. */
function certificatesIn(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  return (blocks ?? []).map((block) => new X509Certificate(block));
}

describe('custom domains with automatic HTTPS (Pebble, PowerDNS, data plane TLS)', () => {
  let servers: OnboardingServers;
  let platform: RunningPlatform;
  let db: Client;
  let redis: Redis;
  /** The customer's DNS: their own zone at (the test's) DNS provider. */
  let customerDns: DnsProvider;
  let pebbleRoot: string;
  let httpsPort: number;
  let bearer: string;
  const tenants = {} as Record<Slug, TenantSummary>;
  /** Every HTTP-01 / DNS-01 proof the worker published, by identifier (the name validated). */
  let http01Identifiers: string[];
  let dns01Identifiers: string[];
  /** The axios interceptor that lets this test read Pebble's orders. */
  let pebbleTrust: number | undefined;

  const api = {
    add: (tenant: TenantSummary, hostname: unknown) =>
      platform
        .api()
        .post(`/v1/tenants/${tenant.id}/domains`)
        .set('Authorization', bearer)
        .send(hostname === undefined ? {} : { hostname }),
    list: (tenant: TenantSummary) =>
      platform.api().get(`/v1/tenants/${tenant.id}/domains`).set('Authorization', bearer),
    get: (tenant: TenantSummary, hostname: string) =>
      platform
        .api()
        .get(`/v1/tenants/${tenant.id}/domains/${encodeURIComponent(hostname)}`)
        .set('Authorization', bearer),
    verify: (tenant: TenantSummary, hostname: string) =>
      platform
        .api()
        .post(`/v1/tenants/${tenant.id}/domains/${encodeURIComponent(hostname)}/verify`)
        .set('Authorization', bearer),
    remove: (tenant: TenantSummary, hostname: string) =>
      platform
        .api()
        .delete(`/v1/tenants/${tenant.id}/domains/${encodeURIComponent(hostname)}`)
        .set('Authorization', bearer),
  };

  async function addDomain(tenant: TenantSummary, hostname: string): Promise<DomainView> {
    const response = await api.add(tenant, hostname);
    if (response.status !== 201) {
      throw new Error(`add ${hostname}: ${response.status} ${JSON.stringify(response.body)}`);
    }
    return response.body as DomainView;
  }

  /**
   * What the customer does with the records the platform asked for. One change at a time:
   * PowerDNS (sqlite backend) answered 500 to concurrent changes of one zone.
   */
  let customerDnsChanges: Promise<unknown> = Promise.resolve();
  function publish(records: readonly DnsRecordToCreate[]): Promise<void> {
    const change = customerDnsChanges.then(async () => {
      for (const record of records) {
        await customerDns.upsertRecordSet({
          name: record.name,
          type: record.type,
          values: [record.value],
          ttl: 60,
        });
      }
    });
    customerDnsChanges = change.catch(() => undefined);
    return change;
  }

  function recordOf(view: DomainView, type: 'CNAME' | 'TXT'): DnsRecordToCreate {
    const record = view.records?.find((candidate) => candidate.type === type);
    if (!record) throw new Error(`${view.hostname} lists no ${type} record`);
    return record;
  }

  /**
   * Polls GET until the domain is `status`; a different final status fails at once with the
   * domain's own explanation instead of a timeout.
   */
  async function waitForDomain(
    tenant: TenantSummary,
    hostname: string,
    status: string,
    timeoutMs = PATIENCE_MS,
  ): Promise<DomainView> {
    const final = new Set(['active', 'verification_failed', 'certificate_failed']);
    return eventually(
      `${hostname} to become ${status}`,
      async () => {
        const response = await api.get(tenant, hostname);
        expect(response.status).toBe(200);
        const view = response.body as DomainView;
        if (view.status === status) return view;
        if (final.has(view.status)) {
          throw new Error(
            `${hostname} became ${view.status}, not ${status}: ${view.verificationError}`,
          );
        }
        return undefined;
      },
      timeoutMs,
    );
  }

  async function certificateRows(subject: string): Promise<CertificateRow[]> {
    const result = await db.query<CertificateRow>(
      `SELECT id, subject, names, tenant_id, status, order_url, certificate_pem, serial_number,
              not_before, not_after
         FROM platform.certificates WHERE subject = $1 ORDER BY created_at`,
      [subject],
    );
    return result.rows;
  }

  async function issuedRow(subject: string): Promise<CertificateRow> {
    const issued = (await certificateRows(subject)).filter((row) => row.status === 'issued');
    expect(issued).toHaveLength(1);
    return issued[0];
  }

  /**
   * Pebble's own view: the platform's ACME account (its key from the registry) reads the
   * account's order list and each order, by POST-as-GET like any ACME client.
   */
  let pebbleAccount: Promise<{ client: acme.Client; ordersUrl: string }> | undefined;
  const pebble = () =>
    (pebbleAccount ??= (async () => {
      const { rows } = await db.query<{ key: string }>(
        'SELECT private_key_encrypted AS key FROM platform.acme_accounts WHERE directory_url = $1',
        [servers.pebble.directoryUrl],
      );
      expect(rows).toHaveLength(1);
      const client = new acme.Client({
        directoryUrl: servers.pebble.directoryUrl,
        accountKey: PrivateKeyCipher.fromSecret(
          servers.controlPlaneEnv.CERTIFICATE_ENCRYPTION_KEY,
        ).decrypt(rows[0].key),
      });
      const account = await client.createAccount({ onlyReturnExisting: true });
      if (!account.orders) throw new Error('Pebble lists no orders URL for the account');
      return { client, ordersUrl: account.orders };
    })());

  /** Every order Pebble holds for the platform's account. */
  async function pebbleOrders(): Promise<acme.Order[]> {
    const { client, ordersUrl } = await pebble();
    const urls: string[] = [];
    // Pebble pages the list (3 a page: the list URL, then `<list>/page/2`, ... until an empty
    // page). getOrder is a plain POST-as-GET of a URL; acme-client has no call for the list.
    for (let page = 1; ; page++) {
      const url = page === 1 ? ordersUrl : `${ordersUrl}/page/${page}`;
      const { orders } = (await client.getOrder({ url } as acme.Order)) as unknown as {
        orders: string[];
      };
      if (orders.length === 0) break;
      urls.push(...orders);
    }
    return Promise.all(urls.map((url) => client.getOrder({ url } as acme.Order)));
  }

  const namesOf = (order: acme.Order) => order.identifiers.map((identifier) => identifier.value);

  /**
   * A bare TLS handshake on the data plane's HTTPS port, trusting `ca` (Pebble's root; null:
   * Node's bundled roots only).
   */
  function handshake(serverName: string, ca: string | null = pebbleRoot): Promise<Served> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port: httpsPort,
        servername: serverName,
        ...(ca === null ? {} : { ca: [ca] }),
        // Reported rather than enforced, so a refusal is the server's and not the client's.
        rejectUnauthorized: false,
      });
      socket.setTimeout(5_000, () => socket.destroy(new Error('handshake timed out')));
      socket.once('secureConnect', () => {
        resolve({
          certificate: socket.getPeerCertificate(),
          authorized: socket.authorized,
          authorizationError: socket.authorizationError?.toString() ?? null,
        });
        socket.end();
      });
      socket.once('error', reject);
    });
  }

  /**
   * GET over HTTPS with SNI and Host `hostname`, trusting Pebble's root only. Node refuses the
   * connection unless the chain verifies and the certificate covers the name.
   */
  function httpsGet(hostname: string, path: string): Promise<HttpsAnswer> {
    return new Promise((resolve, reject) => {
      const outgoing = httpsRequest(
        {
          host: '127.0.0.1',
          port: httpsPort,
          servername: hostname,
          path,
          headers: { Host: hostname },
          ca: [pebbleRoot],
          agent: false,
        },
        (response) => {
          const socket = response.socket as TLSSocket;
          const served: Served = {
            certificate: socket.getPeerCertificate(),
            authorized: socket.authorized,
            authorizationError: socket.authorizationError?.toString() ?? null,
          };
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({
              ...served,
              status: response.statusCode ?? 0,
              body: response.headers['content-type']?.startsWith('application/json')
                ? (JSON.parse(text) as Record<string, unknown>)
                : {},
            });
          });
        },
      );
      outgoing.on('error', reject);
      outgoing.end();
    });
  }

  /** The serial the data plane presents for `serverName`, once it is `serial` (events are async). */
  async function waitForServedSerial(serverName: string, serial: string): Promise<Served> {
    return eventually(`${serverName} to be served certificate ${serial}`, async () => {
      const served = await handshake(serverName);
      return served.certificate.serialNumber === serial ? served : undefined;
    });
  }

  /** Resolves once the data plane refuses the handshake for `serverName`. */
  async function waitForRefusedHandshake(serverName: string): Promise<Error> {
    return eventually(`the handshake for ${serverName} to be refused`, () =>
      handshake(serverName).then(
        () => undefined,
        (error: Error) => error,
      ),
    );
  }

  /** Adds a domain, publishes exactly the records asked for, and waits until it is served. */
  async function activate(tenant: TenantSummary, hostname: string): Promise<DomainView> {
    const added = await addDomain(tenant, hostname);
    await publish(added.records ?? []);
    return waitForDomain(tenant, hostname, 'active');
  }

  /**
   * Domains whose records are wrong, added as early as possible: their 1-minute window runs out
   * while the other tests run. Each publishes what a confused (or hostile) customer might.
   */
  const wrongRecords = [
    {
      case: 'TXT missing',
      tenant: 'gamma' as Slug,
      hostname: 'no-txt.customer.test',
      publish: (view: DomainView) => [recordOf(view, 'CNAME')],
      reason: `TXT record missing at ${TXT_LABEL}.no-txt.customer.test`,
    },
    {
      case: 'TXT with the wrong value',
      tenant: 'gamma' as Slug,
      hostname: 'bad-txt.customer.test',
      publish: (view: DomainView) => [
        recordOf(view, 'CNAME'),
        { ...recordOf(view, 'TXT'), value: 'platform-verify=not-the-token' },
      ],
      reason: `TXT record at ${TXT_LABEL}.bad-txt.customer.test has the wrong value (expected the domain's verification token)`,
    },
    {
      // The dangerous one: the name reaches the platform (HTTP-01 would pass), but another
      // tenant's host, so the domain must not be issued for delta.
      case: "CNAME to another tenant's host",
      tenant: 'delta' as Slug,
      hostname: 'elsewhere.customer.test',
      publish: (view: DomainView) => [
        recordOf(view, 'TXT'),
        { ...recordOf(view, 'CNAME'), value: `alpha.${PLATFORM_DOMAIN}` },
      ],
      reason: `CNAME at elsewhere.customer.test points to alpha.${PLATFORM_DOMAIN}, not delta.${PLATFORM_DOMAIN}`,
    },
    {
      case: 'CNAME missing',
      tenant: 'delta' as Slug,
      hostname: 'no-cname.customer.test',
      publish: (view: DomainView) => [recordOf(view, 'TXT')],
      reason: `CNAME record missing at no-cname.customer.test (expected delta.${PLATFORM_DOMAIN})`,
    },
  ];
  let wrongRecordsAdded: Promise<DomainView[]> | undefined;
  const startWrongRecords = () => {
    wrongRecordsAdded ??= Promise.all(
      wrongRecords.map(async (wrong) => {
        const added = await addDomain(tenants[wrong.tenant], wrong.hostname);
        await publish(wrong.publish(added));
        return added;
      }),
    );
    return wrongRecordsAdded;
  };

  beforeAll(async () => {
    servers = await startOnboardingServers({ extraZones: [CUSTOMER_ZONE] });
    // acme-client sends everything through one process-wide axios: requests to this Pebble
    // (the test's reads of its orders) trust its self-signed listener; nothing else changes.
    const pebbleOrigin = new URL(servers.pebble.directoryUrl).origin;
    const pebbleListener = new Agent({ ca: servers.pebble.listenerCaPem });
    pebbleTrust = acme.axios.interceptors.request.use((config) => {
      if (config.httpsAgent === undefined && config.url?.startsWith(`${pebbleOrigin}/`)) {
        config.httpsAgent = pebbleListener;
      }
      return config;
    });
    http01Identifiers = [];
    dns01Identifiers = [];
    // Spies that call through: the worker runs in this process, so every proof it publishes
    // passes here, with the name the CA validates.
    const http01Prepare = Http01Solver.prototype.prepare;
    jest.spyOn(Http01Solver.prototype, 'prepare').mockImplementation(function (
      this: Http01Solver,
      identifier,
      token,
      keyAuthorization,
    ) {
      http01Identifiers.push(identifier);
      return http01Prepare.call(this, identifier, token, keyAuthorization);
    });
    const dns01Prepare = Dns01Solver.prototype.prepare;
    jest.spyOn(Dns01Solver.prototype, 'prepare').mockImplementation(function (
      this: Dns01Solver,
      identifier,
      token,
      keyAuthorization,
    ) {
      dns01Identifiers.push(identifier);
      return dns01Prepare.call(this, identifier, token, keyAuthorization);
    });
    platform = await startPlatform({
      controlPlaneEnv: {
        ...servers.controlPlaneEnv,
        CUSTOM_DOMAIN_DNS_SERVERS: servers.powerDns.dnsAddress,
        CUSTOM_DOMAIN_VERIFY_WINDOW_MINUTES: String(WINDOW_MINUTES),
        CUSTOM_DOMAIN_VERIFY_RETRY_MS: '200',
        CUSTOM_DOMAINS_PER_TENANT: '2',
        // Two: a renewal is an order too, and the limits test removes and re-adds a domain.
        CERTIFICATE_ORDERS_PER_TENANT_PER_WEEK: '2',
      },
      dataPlaneEnv: {
        DATA_PLANE_HTTPS_PORT: '0',
        CERTIFICATE_ENCRYPTION_KEY: servers.controlPlaneEnv.CERTIFICATE_ENCRYPTION_KEY,
        // Long: a certificate that changes during this suite changed because of the event.
        CERTIFICATE_CACHE_TTL_MS: '600000',
        HTTPS_REDIRECT: 'true',
      },
      // Pebble validates HTTP-01 by connecting here (on the address the customer's name has).
      dataPlanePort: servers.pebble.httpChallengePort,
    });
    bearer = `Bearer ${platform.adminToken}`;
    httpsPort = platform.dataPlaneHttpsPort!;
    db = new Client({ connectionString: platform.database.url });
    await db.connect();
    redis = new Redis(REDIS_URL);
    customerDns = createDnsProvider({
      provider: 'powerdns',
      apiUrl: servers.powerDns.apiUrl,
      apiKey: servers.powerDns.apiKey,
      zone: CUSTOMER_ZONE,
    });
    pebbleRoot = await servers.pebble.rootCaPem();
    const create = async (slug: Slug, extra?: Record<string, unknown>) => {
      tenants[slug] = await platform.createTenant(slug, extra);
    };
    await Promise.all([
      // The wrong records' window starts as soon as their tenants exist.
      Promise.all([create('gamma'), create('delta')]).then(startWrongRecords),
      create('alpha'),
      create('epsilon'),
      // A custom domain given at creation, spelled as a user might: the same flow afterwards.
      create('beta', { customDomain: 'Shop.Customer.Test.' }),
    ]);
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    if (pebbleTrust !== undefined) acme.axios.interceptors.request.eject(pebbleTrust);
    redis?.disconnect();
    await db?.end();
    await platform?.stop();
    await servers?.stop();
  });

  /** alpha's custom domain, activated once and shared by the tests that need it served. */
  const ALPHA_DOMAIN = 'app.customer.test';
  let alphaActive: Promise<DomainView> | undefined;
  const activateAlpha = () => (alphaActive ??= activate(tenants.alpha, ALPHA_DOMAIN));

  /** beta's domain, given at tenant creation; the customer publishes and asks for a check. */
  const BETA_DOMAIN = 'shop.customer.test';
  let betaActive: Promise<DomainView> | undefined;
  const activateBeta = () =>
    (betaActive ??= (async () => {
      const pending = await api.get(tenants.beta, BETA_DOMAIN);
      expect(pending.status).toBe(200);
      await publish((pending.body as DomainView).records ?? []);
      const checked = await api.verify(tenants.beta, BETA_DOMAIN);
      expect(checked.status).toBe(202);
      return waitForDomain(tenants.beta, BETA_DOMAIN, 'active');
    })());

  describe('end to end', () => {
    it('adds a domain with the records to publish, verifies it, and serves it over HTTPS with a Pebble certificate', async () => {
      const alpha = tenants.alpha;
      const added = await addDomain(alpha, ALPHA_DOMAIN);
      expect(added).toMatchObject({
        hostname: ALPHA_DOMAIN,
        kind: 'custom',
        status: 'pending_verification',
        verificationError: null,
        verifiedAt: null,
        activatedAt: null,
      });
      const txt = recordOf(added, 'TXT');
      expect(added.records).toEqual([
        { type: 'CNAME', name: ALPHA_DOMAIN, value: `alpha.${PLATFORM_DOMAIN}` },
        { type: 'TXT', name: `${TXT_LABEL}.${ALPHA_DOMAIN}`, value: txt.value },
      ]);
      expect(txt.value).toMatch(/^platform-verify=[A-Za-z0-9_-]{24}$/);
      const window = Date.parse(added.verifyUntil!) - Date.now();
      expect(window).toBeGreaterThan(WINDOW_MINUTES * 60_000 - 10_000);
      expect(window).toBeLessThanOrEqual(WINDOW_MINUTES * 60_000);
      // Listed with its status; not served before it is active (no certificate, no tenant).
      const listed = await api.list(alpha);
      expect(listed.body).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ hostname: ALPHA_DOMAIN, status: 'pending_verification' }),
          expect.objectContaining({ hostname: `alpha.${PLATFORM_DOMAIN}`, kind: 'subdomain' }),
        ]),
      );
      await expect(handshake(ALPHA_DOMAIN)).rejects.toThrow();

      await publish(added.records!);
      alphaActive = waitForDomain(alpha, ALPHA_DOMAIN, 'active');
      const active = await alphaActive;
      expect(active.verificationError).toBeNull();
      expect(Date.parse(active.verifiedAt!)).toBeLessThanOrEqual(Date.parse(active.activatedAt!));

      // The registry: one certificate for exactly this name, ordered for alpha.
      const rows = await certificateRows(ALPHA_DOMAIN);
      expect(rows).toHaveLength(1);
      const [row] = rows;
      expect(row).toMatchObject({ status: 'issued', names: [ALPHA_DOMAIN], tenant_id: alpha.id });
      // Proven by HTTP-01 (the data plane answered Pebble), not DNS-01 (the platform cannot
      // write the customer's zone).
      expect(http01Identifiers).toContain(ALPHA_DOMAIN);
      expect(dns01Identifiers).not.toContain(ALPHA_DOMAIN);
      // Pebble's side: one order for the name, valid, its authorization won by HTTP-01.
      const orders = (await pebbleOrders()).filter((order) =>
        namesOf(order).includes(ALPHA_DOMAIN),
      );
      expect(orders.map((order) => [order.url, order.status, namesOf(order)])).toEqual([
        [row.order_url, 'valid', [ALPHA_DOMAIN]],
      ]);
      const { client } = await pebble();
      const [authorization] = await client.getAuthorizations(orders[0]);
      expect(
        authorization.challenges
          .filter((challenge) => challenge.status === 'valid')
          .map((challenge) => challenge.type),
      ).toEqual(['http-01']);

      // HTTPS with SNI and Host: alpha's data, over a certificate that verifies against
      // Pebble's root and covers the name (Node refuses the request otherwise).
      const response = await httpsGet(ALPHA_DOMAIN, '/api/tenant');
      expect(response.authorized).toBe(true);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ id: alpha.id, slug: 'alpha', status: 'active' });
      const leaf = new X509Certificate(response.certificate.raw);
      expect(leaf.checkHost(ALPHA_DOMAIN)).toBe(ALPHA_DOMAIN);
      expect(leaf.checkHost(`other.${CUSTOMER_ZONE}`)).toBeUndefined();
      expect(leaf.serialNumber).toBe(certificatesIn(row.certificate_pem!)[0].serialNumber);
      // The assertion has teeth: the same certificate does not verify without Pebble's root.
      const untrusted = await handshake(ALPHA_DOMAIN, null);
      expect(untrusted.authorized).toBe(false);
    });

    it("serves another tenant's custom domain with that tenant's data (isolation)", async () => {
      const alphaDomain = await activateAlpha();
      const betaDomain = await activateBeta();
      expect(betaDomain).toMatchObject({ hostname: BETA_DOMAIN, status: 'active' });

      const alphaResponse = await httpsGet(alphaDomain.hostname, '/api/tenant');
      const betaResponse = await httpsGet(BETA_DOMAIN, '/api/tenant');
      expect(betaResponse.authorized).toBe(true);
      expect(betaResponse.body).toMatchObject({ id: tenants.beta.id, slug: 'beta' });
      expect(alphaResponse.body).toMatchObject({ id: tenants.alpha.id, slug: 'alpha' });
      // Each domain has its own certificate, and neither covers the other's name.
      expect(betaResponse.certificate.serialNumber).not.toBe(
        alphaResponse.certificate.serialNumber,
      );
      expect(new X509Certificate(betaResponse.certificate.raw).checkHost(ALPHA_DOMAIN)).toBe(
        undefined,
      );
      expect(await issuedRow(BETA_DOMAIN)).toMatchObject({
        names: [BETA_DOMAIN],
        tenant_id: tenants.beta.id,
      });
      // The platform subdomains keep the shared wildcard.
      const subdomain = await httpsGet(`beta.${PLATFORM_DOMAIN}`, '/api/tenant');
      expect(subdomain.body).toMatchObject({ id: tenants.beta.id });
      expect(subdomain.certificate.serialNumber).toBe(
        certificatesIn((await issuedRow(WILDCARD)).certificate_pem!)[0].serialNumber,
      );
      // A name nobody owns gets no certificate at all.
      await expect(handshake(`nobody.${CUSTOMER_ZONE}`)).rejects.toThrow();
    });
  });

  describe('renewal', () => {
    it('renews at two thirds of the lifetime; the old row is replaced and the data plane serves the new certificate without restart', async () => {
      await activateAlpha();
      const before = await issuedRow(ALPHA_DOMAIN);
      const beforeWildcard = await issuedRow(WILDCARD);
      const served = await handshake(ALPHA_DOMAIN);
      expect(served.certificate.serialNumber).toBe(
        certificatesIn(before.certificate_pem!)[0].serialNumber,
      );

      const renewal = platform.worker!.get(CertificateRenewal);
      // Nothing is due today: a round with the real clock renews nothing.
      expect(await renewal.renewDue()).toEqual([]);
      const lifetime = before.not_after!.getTime() - before.not_before!.getTime();
      const dueAt = new Date(before.not_before!.getTime() + (lifetime * 2) / 3 + 60_000);
      const renewed = await renewal.renewDue(dueAt);
      expect(renewed).toEqual(expect.arrayContaining([ALPHA_DOMAIN, WILDCARD]));

      const after = await eventually('a renewed certificate for alpha', async () => {
        const issued = (await certificateRows(ALPHA_DOMAIN)).find(
          (row) => row.status === 'issued' && row.id !== before.id,
        );
        return issued;
      });
      const rows = await certificateRows(ALPHA_DOMAIN);
      expect(rows.map((row) => [row.id, row.status])).toEqual([
        [before.id, 'replaced'],
        [after.id, 'issued'],
      ]);
      expect(after).toMatchObject({ names: [ALPHA_DOMAIN], tenant_id: tenants.alpha.id });
      expect(after.serial_number).not.toBe(before.serial_number);
      expect(after.order_url).not.toBe(before.order_url);

      const newSerial = certificatesIn(after.certificate_pem!)[0].serialNumber;
      const now = await waitForServedSerial(ALPHA_DOMAIN, newSerial);
      expect(now.authorized).toBe(true);
      const response = await httpsGet(ALPHA_DOMAIN, '/api/tenant');
      expect(response.body).toMatchObject({ id: tenants.alpha.id });
      expect((await waitForDomain(tenants.alpha, ALPHA_DOMAIN, 'active')).verificationError).toBe(
        null,
      );

      // The platform wildcard was renewed in the same round, and is served too.
      const wildcard = await issuedRow(WILDCARD);
      expect(wildcard.id).not.toBe(beforeWildcard.id);
      await waitForServedSerial(
        `alpha.${PLATFORM_DOMAIN}`,
        certificatesIn(wildcard.certificate_pem!)[0].serialNumber,
      );
    });
  });

  describe('hostile hostnames', () => {
    const INVALID = 'invalid_custom_domain';
    /** [what, hostname sent, status, error code]; beta (one domain of two) sends them all. */
    const cases: [string, unknown, number, string][] = [
      ['an IPv4 literal', '192.0.2.10', 400, INVALID],
      ['an IPv4 literal in hex (read as 127.0.0.1)', '0x7f.0.0.1', 400, INVALID],
      ['an IPv4 shorthand (127.0.0.1)', '127.1', 400, INVALID],
      ['an IPv6 literal', '::1', 400, INVALID],
      ['a bracketed IPv6 literal', '[2001:db8::1]', 400, INVALID],
      ['a wildcard', `*.${CUSTOMER_ZONE}`, 400, INVALID],
      ['a port', `app.${CUSTOMER_ZONE}:443`, 400, INVALID],
      ['a path', `app.${CUSTOMER_ZONE}/admin`, 400, INVALID],
      ['a scheme', `https://app.${CUSTOMER_ZONE}`, 400, INVALID],
      ['user info', `user@app.${CUSTOMER_ZONE}`, 400, INVALID],
      ['an underscore label', `_dmarc.${CUSTOMER_ZONE}`, 400, INVALID],
      ['an empty string', '', 400, INVALID],
      ['blanks', '   ', 400, INVALID],
      ['an empty label', `app..${CUSTOMER_ZONE}`, 400, INVALID],
      ['a leading hyphen', `-app.${CUSTOMER_ZONE}`, 400, INVALID],
      ['a label of 64 characters', `${'a'.repeat(64)}.${CUSTOMER_ZONE}`, 400, INVALID],
      [
        'a name over 253 characters',
        `${'a'.repeat(60)}.`.repeat(4) + CUSTOMER_ZONE,
        400,
        'validation_failed',
      ],
      ['a header injection', `app.${CUSTOMER_ZONE}\r\nX-Injected: 1`, 400, INVALID],
      ['percent-encoding', `app%2E${CUSTOMER_ZONE}`, 400, INVALID],
      ['a numeric top-level label', 'app.123', 400, INVALID],
      ['malformed punycode', `xn--zz.${CUSTOMER_ZONE}`, 400, INVALID],
      ['localhost', 'localhost', 400, INVALID],
      ['a single label', 'intranet', 400, INVALID],
      ['the platform domain', PLATFORM_DOMAIN, 400, INVALID],
      ['the platform domain, upper case, trailing dot', 'PLATFORM.TEST.', 400, INVALID],
      ["another tenant's platform subdomain", `alpha.${PLATFORM_DOMAIN}`, 400, INVALID],
      ['a deeper platform subdomain', `a.b.${PLATFORM_DOMAIN}`, 400, INVALID],
      [
        'full-width letters that map onto a platform subdomain',
        'ａｌｐｈａ.platform.test',
        400,
        INVALID,
      ],
      ['ideographic full stops around the platform domain', 'alpha。platform。test', 400, INVALID],
      ['a number', 42, 400, 'validation_failed'],
      ['a list', [`app.${CUSTOMER_ZONE}`], 400, 'validation_failed'],
      ['null', null, 400, 'validation_failed'],
      ['nothing', undefined, 400, 'validation_failed'],
      ["another tenant's custom domain", 'app.customer.test', 409, 'hostname_taken'],
      ['the same, another spelling', 'APP.Customer.Test.', 409, 'hostname_taken'],
      ['the same, with a zero-width space', 'app.customer.test\u200b', 409, 'hostname_taken'],
      ["the tenant's own domain again", 'shop.customer.test', 409, 'hostname_taken'],
    ];

    it(`refuses ${cases.length} hostile hostnames with the right status, creating nothing`, async () => {
      await Promise.all([activateAlpha(), activateBeta()]);
      const beta = tenants.beta;
      const domainsBefore = await db.query<{ hostname: string }>(
        'SELECT hostname FROM platform.tenant_domains ORDER BY hostname',
      );
      const addsAudited = async () =>
        (
          await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM platform.audit_log
              WHERE action = 'tenant.domain.add' AND tenant_id = $1`,
            [beta.id],
          )
        ).rows[0].n;
      const auditedBefore = await addsAudited();
      const verificationsQueued = jest.spyOn(platform.controlPlane.get(DomainsQueue), 'verify');
      try {
        const answers: [string, number, string][] = [];
        for (const [what, hostname] of cases) {
          const response = await api.add(beta, hostname);
          answers.push([what, response.status, (response.body as { error?: string }).error ?? '']);
        }
        expect(answers).toEqual(cases.map(([what, , status, error]) => [what, status, error]));
        expect(verificationsQueued).not.toHaveBeenCalled();
      } finally {
        verificationsQueued.mockRestore();
      }
      const domainsAfter = await db.query<{ hostname: string }>(
        'SELECT hostname FROM platform.tenant_domains ORDER BY hostname',
      );
      expect(domainsAfter.rows).toEqual(domainsBefore.rows);
      expect(await addsAudited()).toBe(auditedBefore);
      const listed = await api.list(beta);
      expect((listed.body as DomainView[]).map((domain) => domain.hostname).sort()).toEqual([
        `beta.${PLATFORM_DOMAIN}`,
        BETA_DOMAIN,
      ]);
      // alpha's domain is still alpha's, and served as alpha's.
      expect((await httpsGet(ALPHA_DOMAIN, '/api/tenant')).body).toMatchObject({
        id: tenants.alpha.id,
      });
    });

    it('accepts internationalised names only as punycode, so a homoglyph is a different name', async () => {
      await activateAlpha();
      const beta = tenants.beta;
      // The control for the hostile cases: an accepted name does queue its verification.
      const verificationsQueued = jest.spyOn(platform.controlPlane.get(DomainsQueue), 'verify');
      // Cyrillic "а" in place of the Latin one: looks like alpha's domain, is another name.
      for (const [unicode, ascii] of [
        ['аpp.customer.test', 'xn--pp-6kc.customer.test'],
        ['bücher.customer.test', 'xn--bcher-kva.customer.test'],
      ]) {
        const added = await addDomain(beta, unicode);
        expect(added.hostname).toBe(ascii);
        expect(added.records?.map((record) => record.name)).toEqual([
          ascii,
          `${TXT_LABEL}.${ascii}`,
        ]);
        // Found by either spelling; removed to leave beta's quota as it was.
        expect((await api.get(beta, unicode)).body).toMatchObject({ hostname: ascii });
        expect((await api.remove(beta, ascii)).status).toBe(204);
      }
      expect(verificationsQueued).toHaveBeenCalledTimes(2);
      verificationsQueued.mockRestore();
      expect((await api.get(tenants.alpha, ALPHA_DOMAIN)).body).toMatchObject({
        status: 'active',
      });
    });
  });

  describe('limits and removal', () => {
    const ONE = 'one.customer.test';
    const TWO = 'two.customer.test';
    const THREE = 'three.customer.test';

    /** epsilon with two active domains, its quota (CUSTOM_DOMAINS_PER_TENANT=2) full. */
    let epsilonFull: Promise<void> | undefined;
    const fillEpsilon = () =>
      (epsilonFull ??= (async () => {
        await activate(tenants.epsilon, ONE);
        await activate(tenants.epsilon, TWO);
      })());

    it('refuses a domain over CUSTOM_DOMAINS_PER_TENANT (403), creating nothing', async () => {
      await fillEpsilon();
      const refused = await api.add(tenants.epsilon, THREE);
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({
        error: 'quota_exceeded',
        message: expect.stringContaining('CUSTOM_DOMAINS_PER_TENANT'),
      });
      expect((await api.get(tenants.epsilon, THREE)).status).toBe(404);
      const rows = await db.query('SELECT 1 FROM platform.tenant_domains WHERE hostname = $1', [
        THREE,
      ]);
      expect(rows.rowCount).toBe(0);
    });

    let oneRemoved: Promise<void> | undefined;
    const removeOne = () =>
      (oneRemoved ??= (async () => {
        await fillEpsilon();
        expect((await httpsGet(ONE, '/api/tenant')).body).toMatchObject({
          id: tenants.epsilon.id,
        });
        const removed = await api.remove(tenants.epsilon, ONE);
        expect(removed.status).toBe(204);
      })());

    it('stops serving a removed domain: no certificate in the handshake, 404 for its Host', async () => {
      await removeOne();
      const error = await waitForRefusedHandshake(ONE);
      expect(error.message).toMatch(/handshake failure|ECONNRESET|socket hang up/);
      expect((await certificateRows(ONE)).map((row) => row.status)).toEqual(['replaced']);
      expect((await api.get(tenants.epsilon, ONE)).status).toBe(404);
      // Over the other domain's connection, the removed name no longer selects the tenant.
      const viaTwo = await new Promise<number>((resolve, reject) => {
        const outgoing = httpsRequest(
          {
            host: '127.0.0.1',
            port: httpsPort,
            servername: TWO,
            path: '/api/tenant',
            headers: { Host: ONE },
            ca: [pebbleRoot],
            agent: false,
          },
          (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          },
        );
        outgoing.on('error', reject);
        outgoing.end();
      });
      expect(viaTwo).toBe(404);
      const plain = await request(platform.dataPlaneUrl)
        .get('/api/tenant')
        .set('Host', ONE)
        .redirects(0);
      expect(plain.status).toBe(404);
      expect(plain.body).toMatchObject({ error: 'unknown_tenant' });
      // The other domain is untouched.
      expect((await httpsGet(TWO, '/api/tenant')).body).toMatchObject({ id: tenants.epsilon.id });
    });

    it('refuses a certificate over CERTIFICATE_ORDERS_PER_TENANT_PER_WEEK, and orders nothing', async () => {
      // Removing a domain frees its place, not its order: two orders this week already.
      await removeOne();
      const added = await addDomain(tenants.epsilon, THREE);
      await publish(added.records!);
      const failed = await waitForDomain(tenants.epsilon, THREE, 'certificate_failed');
      expect(failed.verifiedAt).not.toBeNull();
      expect(failed.activatedAt).toBeNull();
      expect(failed.verificationError).toBe(
        'certificate order budget used up: 2 of 2 orders this week (CERTIFICATE_ORDERS_PER_TENANT_PER_WEEK)',
      );
      expect(await certificateRows(THREE)).toEqual([]);
      expect(http01Identifiers).not.toContain(THREE);
      const ordered = (await pebbleOrders()).flatMap(namesOf);
      expect(ordered).toEqual(expect.arrayContaining([ONE, TWO]));
      expect(ordered).not.toContain(THREE);
      await expect(handshake(THREE)).rejects.toThrow();
      // Other tenants' budgets are their own: alpha's domain is still served.
      expect((await httpsGet(ALPHA_DOMAIN, '/api/tenant')).status).toBe(200);
    });
  });

  describe('plain HTTP', () => {
    it('redirects to HTTPS once the domain is active, except the ACME path', async () => {
      await activateAlpha();
      const http = () => request(platform.dataPlaneUrl);
      const redirected = await http()
        .get('/api/tenant?view=full')
        .set('Host', ALPHA_DOMAIN)
        .redirects(0);
      expect(redirected.status).toBe(308);
      expect(redirected.headers.location).toBe(
        `https://${ALPHA_DOMAIN}:${httpsPort}/api/tenant?view=full`,
      );

      const token = randomBytes(24).toString('base64url');
      const keyAuthorization = `${token}.${randomBytes(32).toString('base64url')}`;
      await new RedisHttp01ChallengeStore(redis, platform.redisPrefix).put(
        token,
        keyAuthorization,
        60,
      );
      const challenge = await http()
        .get(`/.well-known/acme-challenge/${token}`)
        .set('Host', ALPHA_DOMAIN)
        .redirects(0);
      expect(challenge.status).toBe(200);
      expect(challenge.text).toBe(keyAuthorization);

      // A domain that is not active has no certificate to send anyone to: not redirected.
      await startWrongRecords();
      const pending = await http()
        .get('/api/tenant')
        .set('Host', wrongRecords[0].hostname)
        .redirects(0);
      expect(pending.status).toBe(404);
    });
  });

  describe('wrong or missing records', () => {
    it('end in verification_failed naming what is wrong, and place no ACME order', async () => {
      const added = await startWrongRecords();
      expect(added.map((domain) => domain.status)).toEqual(
        wrongRecords.map(() => 'pending_verification'),
      );
      const failed = await Promise.all(
        wrongRecords.map((wrong) =>
          waitForDomain(
            tenants[wrong.tenant],
            wrong.hostname,
            'verification_failed',
            WINDOW_MINUTES * 60_000 + PATIENCE_MS,
          ),
        ),
      );
      expect(
        failed.map((domain, index) => [wrongRecords[index].case, domain.verificationError]),
      ).toEqual(wrongRecords.map((wrong) => [wrong.case, wrong.reason]));
      for (const domain of failed) {
        expect(domain).toMatchObject({ verifiedAt: null, activatedAt: null });
        // Given up only once the window had closed.
        expect(Date.parse(domain.lastCheckedAt!)).toBeGreaterThanOrEqual(
          Date.parse(domain.verifyUntil!),
        );
      }

      // No order: nothing recorded (the order is recorded before any challenge), no HTTP-01
      // proof published for the name, no certificate served.
      const hostnames = wrongRecords.map((wrong) => wrong.hostname);
      const recorded = await db.query(
        'SELECT subject FROM platform.certificates WHERE subject = ANY($1) OR names && $1',
        [hostnames],
      );
      expect(recorded.rows).toEqual([]);
      expect(http01Identifiers.filter((name) => hostnames.includes(name))).toEqual([]);
      // Pebble never saw an order for them (its list does hold the account's other orders).
      const orders = (await pebbleOrders()).flatMap(namesOf);
      expect(orders).toContain(ALPHA_DOMAIN);
      expect(orders.filter((name) => hostnames.includes(name))).toEqual([]);
      for (const hostname of hostnames) await expect(handshake(hostname)).rejects.toThrow();
    });

    it('checks again on request once the records are fixed, and then issues', async () => {
      await startWrongRecords();
      const wrong = wrongRecords[1];
      const tenant = tenants[wrong.tenant];
      await waitForDomain(
        tenant,
        wrong.hostname,
        'verification_failed',
        WINDOW_MINUTES * 60_000 + PATIENCE_MS,
      );
      const view = (await api.get(tenant, wrong.hostname)).body as DomainView;
      await publish([recordOf(view, 'TXT')]);
      const checked = await api.verify(tenant, wrong.hostname);
      expect(checked.status).toBe(202);
      // The window reopens and the check runs at once (it may already have passed).
      expect(checked.body).toMatchObject({
        status: expect.stringMatching(/^(pending_verification|verified|active)$/),
        verificationError: null,
      });
      expect(Date.parse((checked.body as DomainView).verifyUntil!)).toBeGreaterThan(Date.now());
      await waitForDomain(tenant, wrong.hostname, 'active');
      expect(await issuedRow(wrong.hostname)).toMatchObject({ tenant_id: tenant.id });
      expect((await httpsGet(wrong.hostname, '/api/tenant')).body).toMatchObject({ id: tenant.id });
    });
  });
});
