import { Inject, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  createDnsProvider,
  DNS_PROVIDER,
  DnsModule,
  DnsProviderError,
  type DnsProvider,
} from '@platform/dns';
import { freePort, resolveRecords, startPowerDns, type PowerDnsServer } from '@platform/testing';

const ZONE = 'platform.test';

describe('PowerDNS driver against a real PowerDNS', () => {
  let server: PowerDnsServer;
  let dns: DnsProvider;

  beforeAll(async () => {
    // No zones up front: the driver must create its zone on first use.
    server = await startPowerDns();
    dns = createDnsProvider({
      provider: 'powerdns',
      apiUrl: server.apiUrl,
      apiKey: server.apiKey,
      zone: ZONE,
    });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('check() creates the missing zone and passes', async () => {
    await expect(dns.check()).resolves.toBeUndefined();
    const response = await fetch(`${server.apiUrl}/api/v1/servers/localhost/zones/${ZONE}.`, {
      headers: { 'X-API-Key': server.apiKey },
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { kind: string }).kind).toBe('Native');
  });

  it('upserts idempotently: twice leaves one record set, answered over DNS', async () => {
    const record = {
      name: 'Acme.Platform.Test.',
      type: 'A' as const,
      values: ['10.0.0.1'],
      ttl: 60,
    };
    await dns.upsertRecordSet(record);
    await dns.upsertRecordSet({ ...record, values: ['10.0.0.2', '10.0.0.3'] });
    await dns.upsertRecordSet({ ...record, values: ['10.0.0.2', '10.0.0.3'] });

    expect(await dns.listRecordSets('acme.platform.test')).toEqual([
      { name: 'acme.platform.test', type: 'A', values: ['10.0.0.2', '10.0.0.3'], ttl: 60 },
    ]);
    expect(await resolveRecords(server, 'acme.platform.test', 'A')).toEqual([
      '10.0.0.2',
      '10.0.0.3',
    ]);
  });

  it('round-trips CNAME and TXT values (quoted in PowerDNS, unquoted in the port)', async () => {
    await dns.upsertRecordSet({
      name: 'www.platform.test',
      type: 'CNAME',
      values: ['Acme.Platform.Test.'],
      ttl: 120,
    });
    const txt = 'v=spf1 "quoted" \\ back';
    await dns.upsertRecordSet({ name: 'txt.platform.test', type: 'TXT', values: [txt], ttl: 300 });

    expect(await dns.listRecordSets('www.platform.test')).toEqual([
      { name: 'www.platform.test', type: 'CNAME', values: ['acme.platform.test'], ttl: 120 },
    ]);
    expect(await dns.listRecordSets('txt.platform.test')).toEqual([
      { name: 'txt.platform.test', type: 'TXT', values: [txt], ttl: 300 },
    ]);
    expect(await resolveRecords(server, 'txt.platform.test', 'TXT')).toEqual([txt]);
  });

  it("passes on PowerDNS's own refusal with the status and its error text", async () => {
    // A CNAME cannot share its name with other data; PowerDNS answers 422 and says why.
    const attempt = dns.upsertRecordSet({
      name: 'www.platform.test',
      type: 'TXT',
      values: ['x'],
      ttl: 60,
    });
    await expect(attempt).rejects.toMatchObject({ provider: 'powerdns', status: 422 });
    await expect(attempt).rejects.toThrow(/answered 422: .*Conflicts with pre-existing RRset/);
  });

  it('splits a TXT value over 255 bytes and reads it back whole', async () => {
    const long = 'k'.repeat(300);
    await dns.upsertRecordSet({ name: 'long.platform.test', type: 'TXT', values: [long], ttl: 60 });

    expect((await dns.listRecordSets('long.platform.test'))[0]?.values).toEqual([long]);
    expect(await resolveRecords(server, 'long.platform.test', 'TXT')).toEqual([long]);
  });

  it('deletes a record set; deleting it again is not an error', async () => {
    await dns.upsertRecordSet({
      name: 'gone.platform.test',
      type: 'A',
      values: ['10.0.0.9'],
      ttl: 60,
    });
    expect(await resolveRecords(server, 'gone.platform.test', 'A')).toEqual(['10.0.0.9']);

    await dns.deleteRecordSet('gone.platform.test', 'A');
    await dns.deleteRecordSet('gone.platform.test', 'A');

    expect(await dns.listRecordSets('gone.platform.test')).toEqual([]);
    expect(await resolveRecords(server, 'gone.platform.test', 'A')).toEqual([]);
  });

  it('keeps both values of concurrent addTxtValue calls on one name, removes only one', async () => {
    const name = '_acme-challenge.platform.test';
    // The apex and the wildcard authorizations of one ACME order, in parallel.
    await Promise.all([
      dns.addTxtValue(name, 'token-for-apex'),
      dns.addTxtValue(name, 'token-for-wildcard'),
    ]);
    expect(await resolveRecords(server, name, 'TXT')).toEqual([
      'token-for-apex',
      'token-for-wildcard',
    ]);

    await dns.removeTxtValue(name, 'token-for-apex');
    expect(await dns.listRecordSets(name)).toEqual([
      { name, type: 'TXT', values: ['token-for-wildcard'], ttl: 60 },
    ]);
    expect(await resolveRecords(server, name, 'TXT')).toEqual(['token-for-wildcard']);

    // Removing the last value removes the set; removing a missing value changes nothing.
    await dns.removeTxtValue(name, 'token-for-wildcard');
    await dns.removeTxtValue(name, 'token-for-wildcard');
    expect(await dns.listRecordSets(name)).toEqual([]);
  });

  it('refuses a name outside its zone before calling PowerDNS', async () => {
    const attempt = dns.upsertRecordSet({
      name: 'evil.example.com',
      type: 'A',
      values: ['10.0.0.1'],
      ttl: 60,
    });
    await expect(attempt).rejects.toBeInstanceOf(DnsProviderError);
    await expect(attempt).rejects.toThrow(/outside the zone platform\.test/);
    // A suffix that is not a label boundary is outside too.
    await expect(dns.addTxtValue('xplatform.test', 'v')).rejects.toThrow(/outside the zone/);
  });

  it('reports a wrong API key as an error naming powerdns and the status', async () => {
    const wrongKey = createDnsProvider({
      provider: 'powerdns',
      apiUrl: server.apiUrl,
      apiKey: 'not-the-key',
      zone: ZONE,
    });
    const attempt = wrongKey.check();
    await expect(attempt).rejects.toBeInstanceOf(DnsProviderError);
    await expect(attempt).rejects.toThrow(`DNS (powerdns at ${server.apiUrl}):`);
    await expect(attempt).rejects.toThrow(/401/);
    // The key is a secret: the message must not carry it.
    await expect(attempt).rejects.not.toThrow(/not-the-key/);
  });

  it('names powerdns, the URL and the cause when nothing listens', async () => {
    const closedUrl = `http://127.0.0.1:${await freePort()}`;
    const unreachable = createDnsProvider({
      provider: 'powerdns',
      apiUrl: closedUrl,
      apiKey: 'k',
      zone: ZONE,
      timeoutMs: 2_000,
    });
    const expected = `DNS (powerdns at ${closedUrl}):`;

    const check = unreachable.check();
    await expect(check).rejects.toBeInstanceOf(DnsProviderError);
    await expect(check).rejects.toThrow(expected);
    await expect(check).rejects.toThrow(/ECONNREFUSED/);

    const upsert = unreachable.upsertRecordSet({
      name: 'a.platform.test',
      type: 'A',
      values: ['10.0.0.1'],
      ttl: 60,
    });
    await expect(upsert).rejects.toThrow(expected);
    await expect(upsert).rejects.toMatchObject({ provider: 'powerdns' });
  });

  it('DnsModule provides the driver built from the factory options', async () => {
    const SETTINGS = Symbol('Settings');
    @Module({
      providers: [{ provide: SETTINGS, useValue: { url: server.apiUrl } }],
      exports: [SETTINGS],
    })
    class SettingsModule {}
    @Injectable()
    class Consumer {
      constructor(@Inject(DNS_PROVIDER) readonly dns: DnsProvider) {}
    }

    const moduleRef = await Test.createTestingModule({
      imports: [
        DnsModule.register({
          imports: [SettingsModule],
          inject: [SETTINGS],
          useFactory: (settings: { url: string }) => ({
            provider: 'powerdns',
            apiUrl: settings.url,
            apiKey: server.apiKey,
            zone: ZONE,
          }),
        }),
      ],
      providers: [Consumer],
    }).compile();
    try {
      const consumer = moduleRef.get(Consumer);
      expect(consumer.dns.name).toBe('powerdns');
      await consumer.dns.upsertRecordSet({
        name: 'nest.platform.test',
        type: 'A',
        values: ['10.1.1.1'],
        ttl: 60,
      });
      expect(await resolveRecords(server, 'nest.platform.test', 'A')).toEqual(['10.1.1.1']);
    } finally {
      await moduleRef.close();
    }
  });
});

describe('startPowerDns', () => {
  it('creates the requested zones, runs side by side, and stop() ends the server', async () => {
    const [first, second] = await Promise.all([
      startPowerDns({ zones: ['one.test', 'two.test'] }),
      startPowerDns(),
    ]);
    try {
      expect(first.dnsPort).not.toBe(second.dnsPort);
      expect(first.apiKey).not.toBe(second.apiKey);
      const zones = await fetch(`${first.apiUrl}/api/v1/servers/localhost/zones`, {
        headers: { 'X-API-Key': first.apiKey },
      });
      const names = ((await zones.json()) as { name: string; kind: string }[]).map(
        (zone) => `${zone.name} ${zone.kind}`,
      );
      expect(names.sort()).toEqual(['one.test. Native', 'two.test. Native']);
      // Authoritative for its zone over DNS: an empty answer, not a refusal.
      expect(await resolveRecords(first, 'nothing.one.test', 'A')).toEqual([]);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
    await expect(fetch(`${first.apiUrl}/api/v1/servers/localhost`)).rejects.toThrow();
  });
});
