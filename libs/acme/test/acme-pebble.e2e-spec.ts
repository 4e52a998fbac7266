import {
  AcmeError,
  Dns01Solver,
  createCertificateAuthority,
  type AccountKeyStore,
  type CertificateAuthority,
  type ChallengeSolver,
  type IssuedCertificate,
} from '@platform/acme';
import { createDnsProvider, type DnsProvider } from '@platform/dns';
import {
  freePort,
  resolveRecords,
  startPebble,
  startPowerDns,
  type PebbleServer,
  type PowerDnsServer,
} from '@platform/testing';
import { X509Certificate, createPrivateKey } from 'node:crypto';

const ZONE = 'platform.test';
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** An in-memory store that keeps the first key saved, as the registry's must. */
function memoryAccountKeys(): AccountKeyStore & { saved: string[] } {
  let key: string | null = null;
  const saved: string[] = [];
  return {
    saved,
    load: async () => key,
    save: async (pem) => {
      saved.push(pem);
      key ??= pem;
    },
  };
}

function chainOf(certificatePem: string): X509Certificate[] {
  return (certificatePem.match(PEM_BLOCK) ?? []).map((pem) => new X509Certificate(pem));
}

/** Each certificate is signed by the next, and the last by `root`. */
function chainVerifies(chain: X509Certificate[], root: X509Certificate): boolean {
  const issuers = [...chain.slice(1), root];
  return chain.every(
    (certificate, index) =>
      certificate.checkIssued(issuers[index]) && certificate.verify(issuers[index].publicKey),
  );
}

describe('ACME against Pebble, DNS-01 through PowerDNS', () => {
  let powerDns: PowerDnsServer | undefined;
  let pebble: PebbleServer | undefined;
  let dns: DnsProvider;
  let accountKeys: ReturnType<typeof memoryAccountKeys>;
  let ca: CertificateAuthority;
  let root: X509Certificate;

  const challengeValues = (name: string): Promise<string[]> =>
    resolveRecords(powerDns!, `_acme-challenge.${name}`, 'TXT');

  beforeAll(async () => {
    powerDns = await startPowerDns({ zones: [ZONE] });
    pebble = await startPebble({ dnsServer: powerDns.dnsAddress });
    root = new X509Certificate(await pebble.rootCaPem());
    dns = createDnsProvider({
      provider: 'powerdns',
      apiUrl: powerDns.apiUrl,
      apiKey: powerDns.apiKey,
      zone: ZONE,
    });
    accountKeys = memoryAccountKeys();
    ca = createCertificateAuthority({
      directoryUrl: pebble.directoryUrl,
      directoryCaPem: pebble.listenerCaPem,
      accountEmail: 'ops@platform.test',
      pollIntervalMs: 100,
      accountKeys,
    });
  });

  afterAll(async () => {
    await pebble?.stop();
    await powerDns?.stop();
  });

  it('answers check() when the directory is up', async () => {
    await expect(ca.check()).resolves.toBeUndefined();
  });

  describe('a wildcard + apex certificate', () => {
    let issued: IssuedCertificate;
    const recordedOrders: string[] = [];
    const txtSeenDuringIssuance: string[][] = [];

    beforeAll(async () => {
      const dns01 = new Dns01Solver(dns);
      // Watches what Pebble will see once the second value is published.
      const watching: ChallengeSolver = {
        type: 'dns-01',
        prepare: async (identifier, token, keyAuthorization) => {
          await dns01.prepare(identifier, token, keyAuthorization);
          txtSeenDuringIssuance.push(await challengeValues(ZONE));
        },
        cleanup: (identifier, token, keyAuthorization) =>
          dns01.cleanup(identifier, token, keyAuthorization),
      };
      issued = await ca.issue({
        names: ['*.platform.test', 'platform.test'],
        solver: watching,
        onOrderCreated: async (orderUrl) => {
          recordedOrders.push(orderUrl);
        },
      });
    });

    it('chains to the root Pebble made at this start, and not to another CA', () => {
      const chain = chainOf(issued.certificatePem);
      expect(chain.length).toBeGreaterThanOrEqual(2);
      expect(chainVerifies(chain, root)).toBe(true);
      // Negative control: the listener's self-signed certificate signed nothing here.
      expect(chainVerifies(chain, new X509Certificate(pebble!.listenerCaPem))).toBe(false);
    });

    it('covers the platform subdomains and the apex, and nothing else', () => {
      const leaf = new X509Certificate(issued.certificatePem);
      // checkHost answers with the subject name that matched.
      expect(leaf.checkHost('acme.platform.test')).toBe('*.platform.test');
      expect(leaf.checkHost('platform.test')).toBe('platform.test');
      expect(leaf.checkHost('a.b.platform.test')).toBeUndefined();
      expect(leaf.checkHost('platform.example')).toBeUndefined();
      expect([...issued.names].sort()).toEqual(['*.platform.test', 'platform.test']);
    });

    it('returns the key that matches the certificate, and its facts', () => {
      const leaf = new X509Certificate(issued.certificatePem);
      expect(leaf.checkPrivateKey(createPrivateKey(issued.privateKeyPem))).toBe(true);
      expect(createPrivateKey(issued.privateKeyPem).asymmetricKeyType).toBe('ec');
      expect(issued.serialNumber).toBe(leaf.serialNumber);
      expect(issued.notBefore.getTime()).toBeLessThanOrEqual(Date.now() + 60_000);
      expect(issued.notAfter.getTime()).toBeGreaterThan(Date.now());
    });

    it('recorded the order before any challenge, and saved the account key once', () => {
      expect(recordedOrders).toEqual([issued.orderUrl]);
      expect(issued.orderUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\//);
      expect(accountKeys.saved).toHaveLength(1);
    });

    it('served both TXT values at the shared name while validating, and removed them after', async () => {
      // The apex and the wildcard share _acme-challenge.platform.test: one value each.
      expect(Math.max(...txtSeenDuringIssuance.map((values) => values.length))).toBe(2);
      expect(await challengeValues(ZONE)).toEqual([]);
      expect(await dns.listRecordSets(`_acme-challenge.${ZONE}`)).toEqual([]);
    });
  });

  it('resumes an order recorded before a crash instead of creating another', async () => {
    const name = 'resume.platform.test';
    const solver = new Dns01Solver(dns);
    let recorded: { orderUrl: string; privateKeyPem: string } | undefined;
    const crashed = ca.issue({
      names: [name],
      solver,
      onOrderCreated: async (orderUrl, privateKeyPem) => {
        recorded = { orderUrl, privateKeyPem };
        throw new Error('worker killed');
      },
    });
    await expect(crashed).rejects.toThrow(AcmeError);
    await expect(crashed).rejects.toThrow(/worker killed/);
    expect(recorded).toBeDefined();
    // The crash came before any challenge: nothing was published.
    expect(await challengeValues(name)).toEqual([]);

    const newOrders: string[] = [];
    const resumed = await ca.issue({
      names: [name],
      solver,
      privateKeyPem: recorded!.privateKeyPem,
      resumeOrderUrl: recorded!.orderUrl,
      onOrderCreated: async (orderUrl) => {
        newOrders.push(orderUrl);
      },
    });
    expect(resumed.orderUrl).toBe(recorded!.orderUrl);
    expect(newOrders).toEqual([]);
    expect(resumed.privateKeyPem).toBe(recorded!.privateKeyPem);
    expect(new X509Certificate(resumed.certificatePem).checkHost(name)).toBe(name);
    expect(await challengeValues(name)).toEqual([]);

    // Crash after the CA issued but before the caller stored it: the same certificate comes back.
    const again = await ca.issue({
      names: [name],
      solver,
      privateKeyPem: recorded!.privateKeyPem,
      resumeOrderUrl: recorded!.orderUrl,
      onOrderCreated: async (orderUrl) => {
        newOrders.push(orderUrl);
      },
    });
    expect(again.serialNumber).toBe(resumed.serialNumber);
    expect(newOrders).toEqual([]);
  });

  it('starts a new order when the resumed one cannot serve (other names, or no key for a finished one)', async () => {
    const solver = new Dns01Solver(dns);
    const first = await ca.issue({ names: ['one.platform.test'], solver });
    const newOrders: string[] = [];
    const onOrderCreated = async (orderUrl: string): Promise<void> => {
      newOrders.push(orderUrl);
    };

    const otherNames = await ca.issue({
      names: ['two.platform.test'],
      solver,
      resumeOrderUrl: first.orderUrl,
      privateKeyPem: first.privateKeyPem,
      onOrderCreated,
    });
    const withoutKey = await ca.issue({
      names: ['one.platform.test'],
      solver,
      resumeOrderUrl: first.orderUrl,
      onOrderCreated,
    });

    expect(newOrders).toEqual([otherNames.orderUrl, withoutKey.orderUrl]);
    expect(newOrders).not.toContain(first.orderUrl);
    expect(otherNames.names).toEqual(['two.platform.test']);
    expect(withoutKey.privateKeyPem).not.toBe(first.privateKeyPem);
  });

  it("fails with the CA's detail when the challenge proof is wrong, and still cleans up", async () => {
    const name = 'wrong.platform.test';
    const dns01 = new Dns01Solver(dns);
    const cleanedUp: string[] = [];
    const lying: ChallengeSolver = {
      type: 'dns-01',
      prepare: (identifier, token) => dns01.prepare(identifier, token, 'not-the-digest'),
      cleanup: async (identifier, token) => {
        await dns01.cleanup(identifier, token, 'not-the-digest');
        cleanedUp.push(identifier);
      },
    };

    const failure = ca.issue({ names: [name], solver: lying });
    await expect(failure).rejects.toThrow(AcmeError);
    await expect(failure).rejects.toThrow(
      new RegExp(
        `^ACME \\(${escape(pebble!.directoryUrl)}\\): .*dns-01 challenge for ${escape(name)} failed: .*DNS challenge`,
      ),
    );
    expect(cleanedUp).toEqual([name]);
    expect(await challengeValues(name)).toEqual([]);
  });

  it('names the directory when it cannot be reached', async () => {
    const directoryUrl = `https://127.0.0.1:${await freePort()}/dir`;
    const unreachable = createCertificateAuthority({
      directoryUrl,
      directoryCaPem: pebble!.listenerCaPem,
      accountEmail: 'ops@platform.test',
      accountKeys: memoryAccountKeys(),
    });
    const started = Date.now();
    const issuing = unreachable.issue({ names: ['x.platform.test'], solver: new Dns01Solver(dns) });
    await expect(issuing).rejects.toThrow(AcmeError);
    await expect(issuing).rejects.toThrow(`ACME (${directoryUrl}): `);
    await expect(issuing).rejects.toThrow(/ECONNREFUSED/);
    await expect(unreachable.check()).rejects.toThrow(`ACME (${directoryUrl}): `);
    // No minute-long retry loop before the answer.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("does not trust Pebble's self-signed listener unless given its CA", async () => {
    const untrusted = createCertificateAuthority({
      directoryUrl: pebble!.directoryUrl,
      accountEmail: 'ops@platform.test',
      accountKeys: memoryAccountKeys(),
    });
    await expect(untrusted.check()).rejects.toThrow(AcmeError);
    await expect(untrusted.check()).rejects.toThrow(/self[- ]signed certificate/i);
    await expect(
      untrusted.issue({ names: ['x.platform.test'], solver: new Dns01Solver(dns) }),
    ).rejects.toThrow(/self[- ]signed certificate/i);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
