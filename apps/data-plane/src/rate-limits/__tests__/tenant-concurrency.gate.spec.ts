import { AsyncLocalStorage } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction } from '@platform/http';
import type { DataPlaneConfig } from '@platform/config';
import { MetricsRegistry } from '@platform/observability';
import type { ResolvedTenant } from '@platform/tenancy';
import type { TenantResolver } from '../../tenant-resolution/tenant-resolver.service';
import { TenantConcurrencyGate } from '../tenant-concurrency.gate';
import { tenantHostOf } from '../../tenant-resolution/tenant-host';

const tenantA = {
  id: 'tenant-a',
  status: 'active',
  plan: 'free',
  limitOverrides: { concurrentRequests: 2 },
} as unknown as ResolvedTenant;
const tenantB = { ...tenantA, id: 'tenant-b' } as ResolvedTenant;

class FakeResponse extends EventEmitter {
  statusCode = 200;
  body: unknown;
  writableEnded = false;
  readonly headers: Record<string, string> = {};
  setHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  /** Node's own: the gate answers on Node's response under either adapter. */
  end(payload: string) {
    this.body = JSON.parse(payload);
    this.finish();
  }
  finish() {
    this.writableEnded = true;
    this.emit('finish');
    this.emit('close');
  }
}

function gate(tenants: Record<string, ResolvedTenant> = { 'a.test': tenantA, 'b.test': tenantB }) {
  const cached = (host: string | undefined) =>
    host !== undefined && tenants[host] ? { tenant: tenants[host] } : undefined;
  const resolver = {
    cachedFor: (request: IncomingMessage, trusted: ReadonlySet<string>) =>
      cached(tenantHostOf(request, trusted)),
  } as unknown as TenantResolver;
  const config = {
    rateLimits: { enabled: true, refusalDelayMs: 0 },
    trustedProxies: ['10.0.0.1'],
  } as unknown as DataPlaneConfig;
  const subject = new TenantConcurrencyGate(resolver, config, new MetricsRegistry());
  const call = (
    host = 'a.test',
    url = '/api/projects',
    options: {
      headers?: Record<string, string>;
      peer?: string;
      phase?: 'handle' | 'afterBody';
      method?: string;
      next?: NextFunction;
    } = {},
  ) => {
    const next = jest.fn(options.next) as jest.MockedFunction<NextFunction>;
    const socket = { destroyed: false, remoteAddress: options.peer ?? '192.0.2.7' };
    const response = new FakeResponse();
    subject[options.phase ?? 'handle'](
      {
        method: options.method ?? 'GET',
        url,
        headers: { host, ...options.headers },
        socket,
      } as unknown as IncomingMessage,
      response as unknown as ServerResponse,
      next,
    );
    return { next, response, socket };
  };
  return { subject, call };
}

describe('TenantConcurrencyGate', () => {
  it('lets a tenant have its limit in progress and makes the next ones wait, in order', () => {
    const { subject, call } = gate();
    const first = call();
    const second = call();
    const third = call();
    const fourth = call();
    expect([first, second].map((c) => c.next.mock.calls.length)).toEqual([1, 1]);
    expect([third, fourth].map((c) => c.next.mock.calls.length)).toEqual([0, 0]);
    expect(subject.load('tenant-a')).toEqual({ active: 2, waiting: 2 });

    first.response.finish();
    expect(third.next).toHaveBeenCalledTimes(1);
    expect(fourth.next).not.toHaveBeenCalled();
    second.response.finish();
    expect(fourth.next).toHaveBeenCalledTimes(1);
    third.response.finish();
    fourth.response.finish();
    expect(subject.load('tenant-a')).toEqual({ active: 0, waiting: 0 });
  });

  it('judges a request of a method with a body only once its body is in (afterBody), and only there', () => {
    const { subject, call } = gate();
    const post = { method: 'POST', headers: { 'content-length': '50' } };
    // At the door it takes no slot: a client sending its body slowly holds none.
    const slow = [call('a.test', '/api/projects', post), call('a.test', '/api/projects', post)];
    expect(slow.map((c) => c.next.mock.calls.length)).toEqual([1, 1]);
    expect(subject.load('tenant-a')).toEqual({ active: 0, waiting: 0 });
    // Once read, it counts like any request; PUT, PATCH and DELETE too.
    call('a.test', '/api/projects', { ...post, phase: 'afterBody' });
    call('a.test', '/api/files/x', { method: 'PUT', phase: 'afterBody' });
    const waiting = call('a.test', '/api/projects', { method: 'DELETE', phase: 'afterBody' });
    expect(waiting.next).not.toHaveBeenCalled();
    expect(subject.load('tenant-a')).toEqual({ active: 2, waiting: 1 });
    // A GET was judged at the door: afterBody lets it through untouched.
    const get = call('a.test', '/api/projects', { phase: 'afterBody' });
    expect(get.next).toHaveBeenCalledTimes(1);
    expect(subject.load('tenant-a')).toEqual({ active: 2, waiting: 1 });
  });

  it('judges a GET at the door whatever its headers say of a body (Fastify never reads one)', () => {
    const { subject, call } = gate();
    call();
    call();
    const claimsBody = call('a.test', '/api/projects', {
      headers: { 'content-length': '5', 'transfer-encoding': 'chunked' },
    });
    expect(claimsBody.next).not.toHaveBeenCalled();
    expect(subject.load('tenant-a')).toEqual({ active: 2, waiting: 1 });
  });

  it('gates by the host the resolver uses: X-Forwarded-Host counts only from a trusted proxy', () => {
    const { subject, call } = gate();
    call();
    call();
    // An untrusted client naming another host is still tenant a's (it used to skip the gate).
    const spoofed = call('a.test', '/api/projects', { headers: { 'x-forwarded-host': 'b.test' } });
    expect(spoofed.next).not.toHaveBeenCalled();
    expect(subject.load('tenant-a')).toEqual({ active: 2, waiting: 1 });
    const proxied = call('a.test', '/api/projects', {
      headers: { 'x-forwarded-host': 'b.test' },
      peer: '10.0.0.1',
    });
    expect(proxied.next).toHaveBeenCalledTimes(1);
    expect(subject.load('tenant-b')).toEqual({ active: 1, waiting: 0 });
  });

  it('resumes a waiting request in its own async context, not in the releasing one', () => {
    const { call } = gate();
    const context = new AsyncLocalStorage<string>();
    const seen: (string | undefined)[] = [];
    const first = context.run('first', () => call());
    context.run('second', () => call());
    context.run('third', () =>
      call('a.test', '/api/projects', { next: () => seen.push(context.getStore()) }),
    );
    expect(seen).toEqual([]);
    context.run('first', () => first.response.finish());
    expect(seen).toEqual(['third']);
  });

  it("never makes another tenant wait for one tenant's line", () => {
    const { call } = gate();
    call();
    call();
    const waiting = call();
    const other = call('b.test');
    expect(waiting.next).not.toHaveBeenCalled();
    expect(other.next).toHaveBeenCalledTimes(1);
  });

  it('refuses with 429 naming concurrentRequests once the line is full (8 per slot)', () => {
    const { subject, call } = gate();
    const calls = Array.from({ length: 2 + 16 }, () => call());
    expect(calls.filter((c) => c.next.mock.calls.length === 1)).toHaveLength(2);
    expect(calls.every((c) => c.response.body === undefined)).toBe(true);
    const refused = call();
    expect(refused.next).not.toHaveBeenCalled();
    expect(refused.response.statusCode).toBe(429);
    expect(refused.response.headers['Retry-After']).toBe('1');
    expect(refused.response.body).toMatchObject({
      error: 'rate_limited',
      details: [{ field: 'concurrentRequests', rule: 'tenant-concurrency' }],
    });
    expect(subject.load('tenant-a')).toEqual({ active: 2, waiting: 16 });
  });

  it('skips a waiting client that went away, and frees the slot of one that left mid-request', () => {
    const { subject, call } = gate();
    const first = call();
    call();
    const gone = call();
    const next = call();
    gone.socket.destroyed = true;
    // The client left before its answer: 'close' without 'finish' still frees the slot.
    first.response.emit('close');
    expect(gone.next).not.toHaveBeenCalled();
    expect(next.next).toHaveBeenCalledTimes(1);
    expect(subject.load('tenant-a')).toEqual({ active: 2, waiting: 0 });
  });

  it('counts a request once however many end events its response emits', () => {
    const { subject, call } = gate();
    const first = call();
    call();
    first.response.finish();
    first.response.emit('close');
    expect(subject.load('tenant-a')).toEqual({ active: 1, waiting: 0 });
  });

  it('refuses every request of a tenant whose limit is 0', () => {
    const closed = { ...tenantA, limitOverrides: { concurrentRequests: 0 } } as ResolvedTenant;
    const { call } = gate({ 'a.test': closed });
    const refused = call();
    expect(refused.next).not.toHaveBeenCalled();
    expect(refused.response.statusCode).toBe(429);
  });

  it.each([
    ['a path outside /api', 'a.test', '/health/live'],
    ['a host not cached', 'c.test', '/api/projects'],
  ])('leaves %s alone', (_what, host, url) => {
    const { subject, call } = gate();
    for (let i = 0; i < 30; i++) expect(call(host, url).next).toHaveBeenCalledTimes(1);
    expect(subject.load('tenant-a')).toEqual({ active: 0, waiting: 0 });
  });
});
