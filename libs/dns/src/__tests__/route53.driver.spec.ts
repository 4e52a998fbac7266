import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  InvalidChangeBatch,
  ListResourceRecordSetsCommand,
  Route53Client,
  type ChangeResourceRecordSetsRequest,
  type ListResourceRecordSetsRequest,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { createDnsProvider } from '../dns-provider.factory';
import { DnsProviderError } from '../dns-provider.error';
import { Route53Driver, type Route53Tuning } from '../drivers/route53.driver';

const ZONE_ID = 'Z0123456789ABC';
const submittedAt = new Date('2025-01-01T00:00:00Z');
const pending = {
  ChangeInfo: { Id: '/change/C1', Status: 'PENDING' as const, SubmittedAt: submittedAt },
};
const inSync = {
  ChangeInfo: { Id: '/change/C1', Status: 'INSYNC' as const, SubmittedAt: submittedAt },
};

function throttling(name = 'Throttling'): Error {
  return Object.assign(new Error('Rate exceeded'), { name, $fault: 'client', $metadata: {} });
}

// Mocks the send() of every Route53Client, including the ones the tests build.
const route53 = mockClient(Route53Client);

describe('Route53Driver', () => {
  let sleeps: number[];
  let tuning: Partial<Route53Tuning>;

  function driver(
    overrides: { waitForSync?: boolean; maxWaitSeconds?: number } = {},
  ): Route53Driver {
    return new Route53Driver(
      {
        hostedZoneId: `/hostedzone/${ZONE_ID}`,
        zone: 'Platform.Test',
        client: new Route53Client({ region: 'us-east-1' }),
        ...overrides,
      },
      tuning,
    );
  }

  function changeBatches(): ChangeResourceRecordSetsRequest[] {
    return route53.commandCalls(ChangeResourceRecordSetsCommand).map((call) => call.args[0].input);
  }

  beforeEach(() => {
    route53.reset();
    sleeps = [];
    // No real waiting: record each pause instead; jitter pinned to its ceiling.
    tuning = {
      minIntervalMs: 0,
      sleep: async (ms) => void sleeps.push(ms),
      random: () => 1,
    };
    route53
      .on(ListResourceRecordSetsCommand)
      .resolves({ ResourceRecordSets: [], IsTruncated: false, MaxItems: 10 });
  });

  it('upserts with the exact change batch and waits until the change is INSYNC', async () => {
    route53.on(ChangeResourceRecordSetsCommand).resolves(pending);
    route53.on(GetChangeCommand).resolvesOnce(pending).resolves(inSync);

    await driver().upsertRecordSet({
      name: 'Acme.platform.test.',
      type: 'A',
      values: ['10.0.0.1', '10.0.0.2'],
      ttl: 60,
    });

    expect(changeBatches()).toEqual([
      {
        HostedZoneId: ZONE_ID,
        ChangeBatch: {
          Changes: [
            {
              Action: 'UPSERT',
              ResourceRecordSet: {
                Name: 'acme.platform.test.',
                Type: 'A',
                TTL: 60,
                ResourceRecords: [{ Value: '10.0.0.1' }, { Value: '10.0.0.2' }],
              },
            },
          ],
        },
      },
    ]);
    const polls = route53.commandCalls(GetChangeCommand).map((call) => call.args[0].input);
    expect(polls).toEqual([{ Id: '/change/C1' }, { Id: '/change/C1' }]);
  });

  it('quotes TXT values (escaping quotes, splitting at 255) and dots CNAME targets', async () => {
    route53.on(ChangeResourceRecordSetsCommand).resolves(inSync);
    const dns = driver();

    await dns.upsertRecordSet({
      name: 'txt.platform.test',
      type: 'TXT',
      values: ['say "hi"', 'k'.repeat(256)],
      ttl: 300,
    });
    await dns.upsertRecordSet({
      name: 'www.platform.test',
      type: 'CNAME',
      values: ['Acme.Platform.Test'],
      ttl: 120,
    });

    const [txt, cname] = changeBatches().map((batch) => batch.ChangeBatch?.Changes?.[0]);
    expect(txt).toEqual({
      Action: 'UPSERT',
      ResourceRecordSet: {
        Name: 'txt.platform.test.',
        Type: 'TXT',
        TTL: 300,
        ResourceRecords: [{ Value: '"say \\"hi\\""' }, { Value: `"${'k'.repeat(255)}" "k"` }],
      },
    });
    expect(cname).toEqual({
      Action: 'UPSERT',
      ResourceRecordSet: {
        Name: 'www.platform.test.',
        Type: 'CNAME',
        TTL: 120,
        ResourceRecords: [{ Value: 'acme.platform.test.' }],
      },
    });
    // Already INSYNC in the answer: no polling.
    expect(route53.commandCalls(GetChangeCommand)).toHaveLength(0);
  });

  it('does not poll when waitForSync is off, and gives up after maxWaitSeconds', async () => {
    route53.on(ChangeResourceRecordSetsCommand).resolves(pending);
    route53.on(GetChangeCommand).resolves(pending);
    const record = { name: 'a.platform.test', type: 'A' as const, values: ['10.0.0.1'], ttl: 60 };

    await driver({ waitForSync: false }).upsertRecordSet(record);
    expect(route53.commandCalls(GetChangeCommand)).toHaveLength(0);

    await expect(driver({ maxWaitSeconds: 0 }).upsertRecordSet(record)).rejects.toThrow(
      `DNS (route53 at hosted zone ${ZONE_ID}): change /change/C1 still PENDING after 0 s`,
    );
  });

  it('deletes with the stored set read first, and treats a missing set as done', async () => {
    const stored: ResourceRecordSet = {
      Name: 'gone.platform.test.',
      Type: 'TXT',
      TTL: 30,
      ResourceRecords: [{ Value: '"a"' }, { Value: '"b"' }],
    };
    route53
      .on(ListResourceRecordSetsCommand)
      .resolvesOnce({ ResourceRecordSets: [stored], IsTruncated: false, MaxItems: 1 })
      // Afterwards Route 53 lists the next name in the zone, which must not count as ours.
      .resolves({
        ResourceRecordSets: [{ ...stored, Name: 'gone2.platform.test.' }],
        IsTruncated: false,
        MaxItems: 1,
      });
    route53.on(ChangeResourceRecordSetsCommand).resolves(inSync);
    const dns = driver();

    await dns.deleteRecordSet('gone.platform.test', 'TXT');
    await dns.deleteRecordSet('gone.platform.test', 'TXT');

    const lookups = route53
      .commandCalls(ListResourceRecordSetsCommand)
      .map((call) => call.args[0].input);
    expect(lookups[0]).toEqual({
      HostedZoneId: ZONE_ID,
      StartRecordName: 'gone.platform.test.',
      StartRecordType: 'TXT',
      MaxItems: 1,
    });
    expect(changeBatches()).toEqual([
      {
        HostedZoneId: ZONE_ID,
        ChangeBatch: { Changes: [{ Action: 'DELETE', ResourceRecordSet: stored }] },
      },
    ]);
  });

  it('retries Throttling and PriorRequestNotComplete with growing, jittered pauses', async () => {
    route53
      .on(ChangeResourceRecordSetsCommand)
      .rejectsOnce(throttling())
      .rejectsOnce(throttling('PriorRequestNotComplete'))
      .resolves(inSync);

    await driver().upsertRecordSet({
      name: 'a.platform.test',
      type: 'A',
      values: ['10.0.0.1'],
      ttl: 60,
    });

    expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(3);
    // random() pinned to 1: full jitter reaches its ceiling, 250 ms then 500 ms.
    expect(sleeps).toEqual([250, 500]);
  });

  it('stops retrying after maxAttempts and names route53, the zone and the cause', async () => {
    route53.on(ChangeResourceRecordSetsCommand).rejects(throttling());
    tuning.maxAttempts = 3;

    const attempt = driver().upsertRecordSet({
      name: 'a.platform.test',
      type: 'A',
      values: ['10.0.0.1'],
      ttl: 60,
    });

    await expect(attempt).rejects.toBeInstanceOf(DnsProviderError);
    await expect(attempt).rejects.toThrow(
      `DNS (route53 at hosted zone ${ZONE_ID}): Throttling: Rate exceeded (after 3 attempts)`,
    );
    expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(3);
  });

  it('does not retry a refused change and passes on Route 53 reasons', async () => {
    route53.on(ChangeResourceRecordSetsCommand).rejects(
      new InvalidChangeBatch({
        message: 'Invalid request',
        $metadata: {},
        messages: ['RRSet of type CNAME with DNS name www.platform.test. is not permitted'],
      }),
    );

    const attempt = driver().upsertRecordSet({
      name: 'www.platform.test',
      type: 'CNAME',
      values: ['x.platform.test'],
      ttl: 60,
    });

    await expect(attempt).rejects.toThrow(
      /InvalidChangeBatch: RRSet of type CNAME .* is not permitted$/,
    );
    expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(1);
  });

  it('spaces requests at least minIntervalMs apart, one at a time', async () => {
    const starts: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    route53.on(ListResourceRecordSetsCommand).callsFake(async () => {
      starts.push(Date.now());
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return { ResourceRecordSets: [], IsTruncated: false, MaxItems: 10 };
    });
    tuning = { minIntervalMs: 40 };
    const dns = driver();

    await Promise.all(
      ['a', 'b', 'c', 'd'].map((label) => dns.listRecordSets(`${label}.platform.test`)),
    );

    expect(maxInFlight).toBe(1);
    const gaps = starts.slice(1).map((start, i) => start - starts[i]);
    // Timers may fire a millisecond early; 38 ms still proves the spacing.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(38);
  });

  it('keeps both values of two concurrent addTxtValue calls on one name', async () => {
    const zone = new FakeZone();
    zone.install(route53);
    const dns = driver();
    const name = '_acme-challenge.platform.test';

    await Promise.all([
      dns.addTxtValue(name, 'token-apex'),
      dns.addTxtValue(name, 'token-wildcard'),
    ]);
    expect(zone.values(`${name}.`)).toEqual(['"token-apex"', '"token-wildcard"']);

    await dns.removeTxtValue(name, 'token-apex');
    expect(zone.values(`${name}.`)).toEqual(['"token-wildcard"']);
    expect(changeBatches()[2]?.ChangeBatch?.Changes).toEqual([
      {
        Action: 'UPSERT',
        ResourceRecordSet: {
          Name: `${name}.`,
          Type: 'TXT',
          TTL: 60,
          ResourceRecords: [{ Value: '"token-wildcard"' }],
        },
      },
    ]);

    // The last value goes with a DELETE of the stored set; a missing value is a no-op.
    await dns.removeTxtValue(name, 'token-wildcard');
    await dns.removeTxtValue(name, 'token-wildcard');
    expect(zone.values(`${name}.`)).toEqual([]);
    expect(changeBatches()).toHaveLength(4);
    expect(changeBatches()[3]?.ChangeBatch?.Changes?.[0]?.Action).toBe('DELETE');
  });

  it('lists the sets at one name: decoded, unquoted, without types outside the port', async () => {
    route53.on(ListResourceRecordSetsCommand).resolves({
      ResourceRecordSets: [
        {
          Name: '\\052.platform.test.',
          Type: 'A',
          TTL: 60,
          ResourceRecords: [{ Value: '10.0.0.2' }, { Value: '10.0.0.1' }],
        },
        {
          Name: '\\052.platform.test.',
          Type: 'MX',
          TTL: 60,
          ResourceRecords: [{ Value: '10 mx.platform.test.' }],
        },
        {
          Name: '\\052.platform.test.',
          Type: 'TXT',
          TTL: 60,
          ResourceRecords: [{ Value: '"a\\"b" "c"' }],
        },
        {
          Name: 'next.platform.test.',
          Type: 'A',
          TTL: 60,
          ResourceRecords: [{ Value: '10.9.9.9' }],
        },
      ],
      IsTruncated: true,
      NextRecordName: 'next.platform.test.',
      NextRecordType: 'AAAA',
      MaxItems: 10,
    });

    expect(await driver().listRecordSets('*.platform.test')).toEqual([
      { name: '*.platform.test', type: 'A', values: ['10.0.0.1', '10.0.0.2'], ttl: 60 },
      { name: '*.platform.test', type: 'TXT', values: ['a"bc'], ttl: 60 },
    ]);
    // The next page belongs to another name: one request is enough.
    expect(route53.commandCalls(ListResourceRecordSetsCommand)).toHaveLength(1);
  });

  it('refuses names outside the zone without calling Route 53', async () => {
    const attempt = driver().addTxtValue('_acme-challenge.example.com', 'v');

    await expect(attempt).rejects.toBeInstanceOf(DnsProviderError);
    await expect(attempt).rejects.toThrow(/outside the zone platform\.test/);
    expect(route53.calls()).toHaveLength(0);
  });

  it('check() passes for the configured zone and fails for another or a missing one', async () => {
    route53
      .on(GetHostedZoneCommand)
      .resolvesOnce({
        HostedZone: { Id: ZONE_ID, Name: 'platform.test.', CallerReference: 'r' },
        DelegationSet: undefined,
      })
      .resolvesOnce({
        HostedZone: { Id: ZONE_ID, Name: 'other.test.', CallerReference: 'r' },
        DelegationSet: undefined,
      })
      .rejects(
        Object.assign(new Error(`No hosted zone found with ID: ${ZONE_ID}`), {
          name: 'NoSuchHostedZone',
        }),
      );
    const dns = driver();

    await expect(dns.check()).resolves.toBeUndefined();
    await expect(dns.check()).rejects.toThrow(
      `hosted zone ${ZONE_ID} is other.test, not platform.test`,
    );
    await expect(dns.check()).rejects.toThrow(
      `DNS (route53 at hosted zone ${ZONE_ID}): NoSuchHostedZone: No hosted zone`,
    );
  });

  it('is what createDnsProvider builds for provider route53', () => {
    const dns = createDnsProvider({
      provider: 'route53',
      hostedZoneId: ZONE_ID,
      zone: 'platform.test',
      client: new Route53Client({ region: 'us-east-1' }),
    });
    expect(dns).toBeInstanceOf(Route53Driver);
    expect(dns.name).toBe('route53');
  });
});

/**
 * A hosted zone in memory, with the latency of a network call between reading and writing, so
 * unsynchronized read-modify-write updates would lose values here as they would in Route 53.
 */
class FakeZone {
  private readonly sets = new Map<string, ResourceRecordSet>();

  install(stub: typeof route53): void {
    stub
      .on(ListResourceRecordSetsCommand)
      .callsFake(async (input: ListResourceRecordSetsRequest) => {
        await tick();
        const set = this.sets.get(`${input.StartRecordName}|${input.StartRecordType}`);
        return {
          ResourceRecordSets: set ? [structuredClone(set)] : [],
          IsTruncated: false,
          MaxItems: 1,
        };
      });
    stub
      .on(ChangeResourceRecordSetsCommand)
      .callsFake(async (input: ChangeResourceRecordSetsRequest) => {
        await tick();
        for (const change of input.ChangeBatch?.Changes ?? []) {
          const set = change.ResourceRecordSet;
          const key = `${set?.Name}|${set?.Type}`;
          if (change.Action === 'DELETE') this.sets.delete(key);
          else if (set) this.sets.set(key, structuredClone(set));
        }
        return inSync;
      });
  }

  values(name: string): string[] {
    return (this.sets.get(`${name}|TXT`)?.ResourceRecords ?? [])
      .map((record) => record.Value ?? '')
      .sort();
  }
}

function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 2));
}
