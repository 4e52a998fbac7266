import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pinoHttp, type Options } from 'pino-http';
import { TenantContext, type TenantRef } from '@platform/tenancy';
import { loggingOptions, writesRequestLines } from '../logging.options';

interface LogLine {
  level: number;
  msg?: string;
  requestId?: string;
  tenantId?: string;
  req?: { id?: string; url?: string; headers?: Record<string, string> };
  res?: { statusCode?: number };
}

const TENANT: TenantRef = {
  id: 'a5d0c2b4-7e1f-4c1a-9a57-0c7d3f1e2b11',
  slug: 'acme',
  schemaName: 't_a5d0c2b47e1f4c1a9a570c7d3f1e2b11',
  cluster: 'main',
};

/**
 * The apps' pino-http options on a plain node:http server, every line captured: what an operator
 * finds in the logs of one request, at the level the process runs with.
 */
async function serve(level: string) {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        lines.push(JSON.parse(line) as LogLine);
      }
      done();
    },
  });
  const options = loggingOptions('probe', level).pinoHttp as Options;
  const logRequest = pinoHttp(options, sink);
  const finishListeners: number[] = [];
  const boundKeys: string[][] = [];
  const server: Server = createServer((req, res) => {
    logRequest(req, res);
    finishListeners.push(res.listenerCount('finish'));
    boundKeys.push(Object.keys(req.log.bindings()));
    const answer = () => {
      req.log.warn('handler note');
      res.end('ok');
    };
    if (req.url === '/tenant') TenantContext.run(TENANT, answer);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const get = (path: string, headers: Record<string, string> = {}) =>
    new Promise<void>((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port, path, headers }, (res: IncomingMessage) => {
        res.resume();
        res.on('end', resolve);
      })
        .on('error', reject)
        .end();
    });
  // pino writes asynchronously to a stream: let the last line arrive.
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  const close = () => new Promise((resolve) => server.close(resolve));
  return { lines, finishListeners, boundKeys, logger: logRequest.logger, get, settle, close };
}

describe('writesRequestLines', () => {
  it.each([
    ['trace', true],
    ['debug', true],
    ['info', true],
    ['warn', false],
    ['error', false],
    ['fatal', false],
    ['silent', false],
  ])('%s: %s', (level, expected) => {
    expect(writesRequestLines(level)).toBe(expected);
  });
});

describe('request logging at info', () => {
  let probe: Awaited<ReturnType<typeof serve>>;

  beforeAll(async () => {
    probe = await serve('info');
  });

  afterAll(async () => {
    await probe.close();
  });

  it('closes every request with one line carrying its id, status and redacted credentials', async () => {
    probe.lines.length = 0;
    await probe.get('/projects', {
      'x-request-id': 'req-0123456789',
      authorization: 'Bearer secret-token-value',
    });
    await probe.settle();
    const completed = probe.lines.filter((line) => line.msg === 'request completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({
      requestId: 'req-0123456789',
      req: { id: 'req-0123456789', url: '/projects' },
      res: { statusCode: 200 },
    });
    expect(completed[0].req?.headers?.authorization).toBe('[redacted]');
    expect(JSON.stringify(probe.lines)).not.toContain('secret-token-value');
  });

  it('puts the request id and the tenant id on the handler’s own lines too', async () => {
    probe.lines.length = 0;
    await probe.get('/tenant', { 'x-request-id': 'req-tenant-000001' });
    await probe.settle();
    const note = probe.lines.find((line) => line.msg === 'handler note');
    expect(note).toMatchObject({ requestId: 'req-tenant-000001', tenantId: TENANT.id });
  });

  it('replaces a request id that could forge log lines with its own', async () => {
    probe.lines.length = 0;
    await probe.get('/projects', { 'x-request-id': 'short' });
    await probe.settle();
    const [line] = probe.lines.filter((entry) => entry.msg === 'request completed');
    expect(line?.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('binds each request’s logger once; the ids join a line only when it is written', async () => {
    probe.lines.length = 0;
    probe.boundKeys.length = 0;
    await probe.get('/projects', { 'x-request-id': 'req-bound-000001' });
    probe.logger.warn('outside any request');
    await probe.settle();
    // One child logger per request, bound to `req` alone: no second child for the request id.
    expect(probe.boundKeys).toEqual([['name', 'req']]);
    const outside = probe.lines.find((line) => line.msg === 'outside any request');
    expect(outside?.level).toBe(40);
    expect(outside).not.toHaveProperty('requestId');
    expect(outside).not.toHaveProperty('tenantId');
  });

  it('writes no request line for health probes and metrics scrapes', async () => {
    probe.lines.length = 0;
    await probe.get('/health/ready');
    await probe.get('/metrics');
    await probe.settle();
    expect(probe.lines.filter((line) => line.msg === 'request completed')).toEqual([]);
  });

  it('knows a probe by its URL as sent, where Fastify’s middleware cut `url` short', () => {
    const autoLogging = (loggingOptions('probe', 'info').pinoHttp as Options).autoLogging;
    const ignore = typeof autoLogging === 'object' ? autoLogging.ignore : undefined;
    const requestTo = (originalUrl: string) =>
      ({ url: '/', originalUrl, headers: {} }) as unknown as IncomingMessage;
    expect(ignore?.(requestTo('/health/ready'))).toBe(true);
    expect(ignore?.(requestTo('/metrics'))).toBe(true);
    expect(ignore?.(requestTo('/api/projects'))).toBe(false);
  });
});

describe('request logging at warn', () => {
  it('does no per-response work for lines it would drop, and keeps the ids on what it writes', async () => {
    const quiet = await serve('warn');
    const loud = await serve('info');
    try {
      await quiet.get('/tenant', { 'x-request-id': 'req-quiet-000001' });
      await loud.get('/projects');
      await quiet.settle();
      expect(quiet.lines.filter((line) => line.msg === 'request completed')).toEqual([]);
      // pino-http's own listener is the difference: none is left waiting for a line at warn.
      expect(quiet.finishListeners[0]).toBe(loud.finishListeners[0] - 1);
      expect(quiet.lines).toEqual([
        expect.objectContaining({
          msg: 'handler note',
          requestId: 'req-quiet-000001',
          tenantId: TENANT.id,
        }),
      ]);
    } finally {
      await quiet.close();
      await loud.close();
    }
  });
});
