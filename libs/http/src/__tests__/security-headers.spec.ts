/**
 * HSTS only where the request really came over HTTPS (its own TLS socket, or a trusted proxy
 * saying so), the Swagger UI's policy on /docs, and a page's own CSP winning over ours.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import express from 'express';
import request from 'supertest';
import {
  API_CONTENT_SECURITY_POLICY,
  SWAGGER_UI_CONTENT_SECURITY_POLICY,
  securityHeaders,
} from '../security-headers.middleware';

const PAGE_POLICY = "default-src 'self'; frame-ancestors 'none'";

function appWith(trustedProxies: string[]): express.Express {
  const app = express();
  app.use(securityHeaders({ trustedProxies }));
  app.get('/api/thing', (_req, res) => res.json({ ok: true }));
  app.get('/docs', (_req, res) => res.type('html').send('<html></html>'));
  app.get('/docs-json', (_req, res) => res.json({}));
  app.get('/docsx', (_req, res) => res.json({}));
  app.get('/page', (_req, res) => {
    res.setHeader('Content-Security-Policy', PAGE_POLICY);
    res.type('html').send('<html></html>');
  });
  return app;
}

const listen = (server: Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );

describe('securityHeaders', () => {
  it('sends no HSTS over plain HTTP from an untrusted peer, whatever it claims', async () => {
    const app = appWith([]);
    const plain = await request(app).get('/api/thing');
    expect(plain.headers['strict-transport-security']).toBeUndefined();
    const claimed = await request(app).get('/api/thing').set('X-Forwarded-Proto', 'https');
    expect(claimed.headers['strict-transport-security']).toBeUndefined();
  });

  it('sends HSTS when a trusted proxy terminated TLS', async () => {
    const app = appWith(['127.0.0.1', '::ffff:127.0.0.1']);
    const server = createHttpServer(app);
    const port = await listen(server);
    try {
      const viaProxy = await request(`http://127.0.0.1:${port}`)
        .get('/api/thing')
        .set('X-Forwarded-Proto', 'https');
      expect(viaProxy.headers['strict-transport-security']).toBe(
        'max-age=31536000; includeSubDomains',
      );
      const plain = await request(`http://127.0.0.1:${port}`).get('/api/thing');
      expect(plain.headers['strict-transport-security']).toBeUndefined();
    } finally {
      server.close();
    }
  });

  it('sends HSTS on a TLS connection', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hsts-'));
    try {
      await promisify(execFile)('openssl', [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'],
        ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
        ...['-days', '1', '-subj', '/CN=localhost'],
      ]);
      const server = createHttpsServer(
        {
          key: await readFile(join(dir, 'key.pem')),
          cert: await readFile(join(dir, 'cert.pem')),
        },
        appWith([]),
      );
      const port = await listen(server);
      try {
        const header = await new Promise<string | undefined>((resolve, reject) => {
          httpsRequest(
            { host: '127.0.0.1', port, path: '/api/thing', rejectUnauthorized: false },
            (response) => {
              response.resume();
              resolve(response.headers['strict-transport-security']);
            },
          )
            .on('error', reject)
            .end();
        });
        expect(header).toBe('max-age=31536000; includeSubDomains');
      } finally {
        server.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('gives the JSON API a CSP that allows nothing, and /docs what Swagger UI needs', async () => {
    const app = appWith([]);
    const api = await request(app).get('/api/thing');
    expect(api.headers['content-security-policy']).toBe(API_CONTENT_SECURITY_POLICY);
    for (const path of ['/docs', '/docs-json']) {
      const docs = await request(app).get(path);
      expect(docs.headers['content-security-policy']).toBe(SWAGGER_UI_CONTENT_SECURITY_POLICY);
    }
    const lookalike = await request(app).get('/docsx');
    expect(lookalike.headers['content-security-policy']).toBe(API_CONTENT_SECURITY_POLICY);
  });

  it('lets a page set its own CSP', async () => {
    const page = await request(appWith([])).get('/page');
    expect(page.headers['content-security-policy']).toBe(PAGE_POLICY);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
  });
});
