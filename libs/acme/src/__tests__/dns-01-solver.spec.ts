import type { DnsProvider } from '@platform/dns';
import { Dns01Solver, challengeRecordName } from '../dns-01.solver';

function recordingDns(): { dns: DnsProvider; calls: string[] } {
  const calls: string[] = [];
  const dns = {
    addTxtValue: async (name: string, value: string, ttl?: number) => {
      calls.push(`add ${name} ${value} ${String(ttl)}`);
    },
    removeTxtValue: async (name: string, value: string) => {
      calls.push(`remove ${name} ${value}`);
    },
  } as unknown as DnsProvider; // only the two TXT methods are reached by the solver
  return { dns, calls };
}

describe('Dns01Solver', () => {
  it('publishes the apex and the wildcard proofs at the same name, one value each', async () => {
    const { dns, calls } = recordingDns();
    const solver = new Dns01Solver(dns, 30);
    await solver.prepare('*.platform.test', 'token-1', 'digest-1');
    await solver.prepare('platform.test', 'token-2', 'digest-2');
    await solver.cleanup('*.platform.test', 'token-1', 'digest-1');
    expect(solver.type).toBe('dns-01');
    expect(calls).toEqual([
      'add _acme-challenge.platform.test digest-1 30',
      'add _acme-challenge.platform.test digest-2 30',
      'remove _acme-challenge.platform.test digest-1',
    ]);
  });

  it('defaults to a short TTL', async () => {
    const { dns, calls } = recordingDns();
    await new Dns01Solver(dns).prepare('acme.platform.test', 't', 'd');
    expect(calls).toEqual(['add _acme-challenge.acme.platform.test d 60']);
  });

  it.each([
    ['platform.test', '_acme-challenge.platform.test'],
    ['*.platform.test', '_acme-challenge.platform.test'],
    ['shop.example.com.', '_acme-challenge.shop.example.com'],
  ])('puts the record for %s at %s', (identifier, expected) => {
    expect(challengeRecordName(identifier)).toBe(expected);
  });
});
