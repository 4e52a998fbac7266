/**
 * HTTP hardening on the real apps (issue 7, item 5): helmet's headers and a CSP that allows
 * nothing on the JSON APIs while the pages keep their own (console, welcome page, Swagger UI —
 * the last checked in Chromium), CORS only for each app's configured origins, JSON-only bodies
 * with the upload route exempt, the control plane's body limit, and the server timeouts.
 * libs/http/src/__tests__ covers the same pieces on a probe app (a slow handler, a failing
 * query, a slowloris client), where routes can be made for the purpose.
 */
import type { Server } from 'node:http';
import { chromium, type Browser } from 'playwright-core';
import request from 'supertest';
import { API_CONTENT_SECURITY_POLICY, SWAGGER_UI_CONTENT_SECURITY_POLICY } from '@platform/http';
import { startPlatform, type RunningPlatform } from '../../../test/platform-harness';

const OPS_ORIGIN = 'https://ops.example.com';
const APP_ORIGIN = 'https://app.example.com';
const slug = 'hardened';

let platform: RunningPlatform;
let token: string;
const operator = () => ({ Authorization: `Bearer ${platform.adminToken}` });
const cp = () => request(platform.controlPlaneUrl);
const dp = () => request(platform.dataPlaneUrl);

beforeAll(async () => {
  platform = await startPlatform({
    controlPlaneEnv: {
      CORS_ALLOWED_ORIGINS: `${OPS_ORIGIN}, http://localhost:5173`,
      CONTROL_PLANE_BODY_LIMIT: '8kb',
      REQUEST_TIMEOUT_MS: '20000',
    },
    dataPlaneEnv: {
      CORS_ALLOWED_ORIGINS: APP_ORIGIN,
      REQUEST_TIMEOUT_MS: '25000',
      RATE_LIMITS_ENABLED: 'false',
    },
  });
  await platform.createTenant(slug);
  token = await platform.signIn(slug, `member@${slug}.test`, 'member');
});

afterAll(async () => {
  await platform?.stop();
});

describe('security headers', () => {
  it('gives the JSON APIs of both apps helmet headers and a CSP that allows nothing', async () => {
    const responses = [
      await cp().get('/v1/tenants').set(operator()).expect(200),
      await cp().get('/v1/tenants/no-such-tenant').set(operator()).expect(404),
      await dp().get('/api/tenant').set('Host', platform.hostOf(slug)).expect(200),
      await dp().get('/api/tenant').set('Host', 'unknown.example.com').expect(404),
    ];
    for (const response of responses) {
      expect(response.headers['content-security-policy']).toBe(API_CONTENT_SECURITY_POLICY);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['x-frame-options']).toBe('DENY');
      expect(response.headers['referrer-policy']).toBe('no-referrer');
      expect(response.headers['cross-origin-resource-policy']).toBe('same-origin');
      expect(response.headers['x-powered-by']).toBeUndefined();
      // Plain HTTP: HSTS would mean nothing here (RFC 6797 §7.2).
      expect(response.headers['strict-transport-security']).toBeUndefined();
    }
  });

  it('leaves the console and the welcome page their own, stricter-for-them policies', async () => {
    const console = await cp().get('/console').expect(200);
    expect(console.headers['content-security-policy']).toMatch(/^default-src 'self'; base-uri/);
    const welcome = await dp().get('/welcome').set('Host', platform.hostOf(slug)).expect(200);
    expect(welcome.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(welcome.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
  });

  it('serves Swagger UI under its own policy, and it renders in Chromium without a violation', async () => {
    const page = await cp().get('/docs').expect(200);
    expect(page.headers['content-security-policy']).toBe(SWAGGER_UI_CONTENT_SECURITY_POLICY);
    const spec = await dp().get('/docs-json').expect(200);
    expect(spec.body.info.title).toBe('Tenancy data plane');

    const browser: Browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    try {
      const tab = await browser.newPage();
      const violations: string[] = [];
      tab.on('console', (message) => {
        if (/Content Security Policy|Refused to/i.test(message.text()))
          violations.push(message.text());
      });
      tab.on('pageerror', (error) => violations.push(error.message));
      await tab.goto(`${platform.controlPlaneUrl}/docs`);
      await tab.getByText('Tenancy control plane').first().waitFor({ timeout: 15_000 });
      // An operation's panel opens (the UI's own script and styles work).
      await tab.locator('.opblock-summary').first().click();
      await tab.locator('.opblock-body').first().waitFor({ timeout: 15_000 });
      expect(violations).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

describe('CORS', () => {
  const preflight = (target: () => request.Agent, path: string, origin: string) =>
    target()
      .options(path)
      .set('Origin', origin)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization,content-type');

  it('allows each app its own configured origins, exactly', async () => {
    const ops = await preflight(cp, '/v1/tenants', OPS_ORIGIN);
    expect(ops.status).toBe(204);
    expect(ops.headers['access-control-allow-origin']).toBe(OPS_ORIGIN);
    expect(ops.headers['access-control-allow-methods']).toContain('POST');
    expect(ops.headers['access-control-allow-credentials']).toBeUndefined();
    const dev = await preflight(cp, '/v1/tenants', 'http://localhost:5173');
    expect(dev.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    const app = await preflight(dp, '/api/projects', APP_ORIGIN).set('Host', platform.hostOf(slug));
    expect(app.headers['access-control-allow-origin']).toBe(APP_ORIGIN);

    const list = await cp()
      .get('/v1/tenants')
      .set(operator())
      .set('Origin', OPS_ORIGIN)
      .expect(200);
    expect(list.headers['access-control-allow-origin']).toBe(OPS_ORIGIN);
    expect(list.headers['access-control-expose-headers']).toContain('Retry-After');
  });

  it.each([
    ['the other app’s origin', APP_ORIGIN, OPS_ORIGIN],
    ['a lookalike', 'https://ops.example.com.evil.net', 'https://app.example.com.evil.net'],
    ['another scheme', 'http://ops.example.com', 'http://app.example.com'],
    ['the null origin', 'null', 'null'],
  ])('gives %s no Access-Control-Allow-Origin on either app', async (_label, atCp, atDp) => {
    const control = await preflight(cp, '/v1/tenants', atCp);
    expect(control.headers['access-control-allow-origin']).toBeUndefined();
    const data = await preflight(dp, '/api/projects', atDp).set('Host', platform.hostOf(slug));
    expect(data.headers['access-control-allow-origin']).toBeUndefined();
    const read = await dp()
      .get('/api/tenant')
      .set('Host', platform.hostOf(slug))
      .set('Origin', atDp)
      .expect(200);
    expect(read.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('bodies', () => {
  it('answers a non-JSON body with 415 naming application/json, and creates nothing', async () => {
    const tenant = await cp()
      .post('/v1/tenants')
      .set(operator())
      .set('Content-Type', 'text/plain')
      .send(JSON.stringify({ slug: 'via-text', name: 'Text', adminEmail: 'a@text.test' }));
    expect(tenant.status).toBe(415);
    expect(tenant.body).toEqual({
      error: 'unsupported_media_type',
      message: expect.stringContaining('application/json'),
    });
    await cp().get('/v1/tenants/via-text').set(operator()).expect(404);

    const project = await dp()
      .post('/api/projects')
      .set('Host', platform.hostOf(slug))
      .set('Authorization', `Bearer ${token}`)
      .type('form')
      .send({ name: 'via-form' });
    expect(project.status).toBe(415);
    expect(project.body.error).toBe('unsupported_media_type');
    const listed = await dp()
      .get('/api/projects')
      .set('Host', platform.hostOf(slug))
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    expect(JSON.stringify(listed.body)).not.toContain('via-form');
  });

  it('takes a +json type as JSON', async () => {
    const response = await dp()
      .post('/api/auth/login')
      .set('Host', platform.hostOf(slug))
      .set('Content-Type', 'application/vnd.api+json')
      .send(JSON.stringify({ email: `member@${slug}.test`, password: 'wrong password here' }));
    expect(response.status).toBe(401);
    expect(response.body.error).toBe('invalid_credentials');
  });

  it('exempts the file upload route (raw bytes) from the JSON-only rule', async () => {
    const upload = await dp()
      .put('/api/files/notes.txt')
      .set('Host', platform.hostOf(slug))
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', 'text/plain')
      .send('plain text, not JSON');
    // Whatever the files feature answers (no storage is configured here), it is not our 415.
    expect(upload.status).not.toBe(415);
    expect(upload.body.error).not.toBe('unsupported_media_type');
    // The exemption is that route only.
    const other = await dp()
      .put('/api/files/notes.txt/extra')
      .set('Host', platform.hostOf(slug))
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', 'text/plain')
      .send('x');
    expect(other.status).toBe(415);
  });

  it('applies CONTROL_PLANE_BODY_LIMIT', async () => {
    const response = await cp()
      .post('/v1/tenants')
      .set(operator())
      .send({ slug: 'too-big', name: 'n'.repeat(9 * 1024), adminEmail: 'a@big.test' });
    expect(response.status).toBe(413);
    expect(response.body).toEqual({
      error: 'payload_too_large',
      message: 'request body is larger than 8kb',
    });
  });
});

describe('timeouts', () => {
  it('sets REQUEST_TIMEOUT_MS as each server’s header and request timeout', () => {
    const control = platform.controlPlane.getHttpServer() as Server;
    const data = platform.dataPlane.getHttpServer() as Server;
    expect([control.headersTimeout, control.requestTimeout]).toEqual([20_000, 20_000]);
    expect([data.headersTimeout, data.requestTimeout]).toEqual([25_000, 25_000]);
  });

  it('does not cut the progress stream (server-sent events) short', async () => {
    // The tenant is active, so the stream sends its state and ends; what matters is a 200
    // text/event-stream rather than a 503 request_timeout from the handler deadline.
    const response = await cp()
      .get(`/v1/tenants/${slug}/progress`)
      .set(operator())
      .buffer(true)
      .parse((res, done) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => done(null, text));
      });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(response.body as string).toMatch(/^data: /m);
  });
});
