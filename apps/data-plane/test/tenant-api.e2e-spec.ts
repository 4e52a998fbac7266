/**
 * The tenant-facing API on the data plane: password login, tenant-bound access tokens (refused
 * on every other tenant's host, tampered, unsigned or mis-signed), projects (create, list,
 * pagination, roles), seeded lookups, and what malformed or oversized bodies get.
 */
import { createHmac } from 'node:crypto';
import { Client } from 'pg';
import request from 'supertest';
import { currentSigningKey } from '../../../test/signing-keys';
import {
  startPlatform,
  type RunningPlatform,
  type TenantSummary,
} from '../../../test/platform-harness';

const ISSUER = 'tenancy-data-plane';

const b64url = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** The kid of alpha-co's current signing key, put in every hand-made header that names none. */
let signingKid = '';

/** A JWT made by hand, so header and claims can be anything an attacker might send. */
function makeToken(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  sign: ((input: string) => string) | null,
): string {
  const input = `${b64url({ kid: signingKid, ...header })}.${b64url(claims)}`;
  return `${input}.${sign ? sign(input) : ''}`;
}

const hmac = (algorithm: 'sha256' | 'sha512', secret: string | Buffer) => (input: string) =>
  createHmac(algorithm, secret).update(input).digest('base64url');

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

/** Changes one character of the given part (0 header, 1 claims, 2 signature) of a JWT. */
function flipChar(token: string, part: 0 | 1 | 2): string {
  const parts = token.split('.');
  const segment = parts[part];
  const index = Math.floor(segment.length / 2);
  const replacement = segment[index] === 'A' ? 'B' : 'A';
  parts[part] = segment.slice(0, index) + replacement + segment.slice(index + 1);
  return parts.join('.');
}

describe('tenant API on the data plane', () => {
  let platform: RunningPlatform;
  let alpha: TenantSummary;
  let beta: TenantSummary;
  let pager: TenantSummary;
  let alphaToken: string;
  let betaToken: string;
  let viewerToken: string;
  /** alpha-co's current signing key: the hand-made tokens below are alpha's. */
  let secret: Buffer;
  const alphaPassword = 'alpha-password-123456';

  const dp = () => request(platform.dataPlaneUrl);
  const hostOf = (tenant: TenantSummary) => platform.hostOf(tenant.slug);

  async function projectNames(tenant: TenantSummary): Promise<string[]> {
    const db = new Client({ connectionString: platform.database.url });
    await db.connect();
    try {
      const { rows } = await db.query<{ name: string }>(
        `SELECT name FROM "${tenant.schema}".projects ORDER BY name`,
      );
      return rows.map((row) => row.name);
    } finally {
      await db.end();
    }
  }

  beforeAll(async () => {
    platform = await startPlatform();
    [alpha, beta, pager] = await Promise.all([
      platform.createTenant('alpha-co'),
      platform.createTenant('beta-co'),
      platform.createTenant('page-co'),
    ]);
    const created = await platform
      .api()
      .post(`/v1/tenants/${alpha.id}/users`)
      .set('Authorization', `Bearer ${platform.adminToken}`)
      .send({ email: 'jane@alpha-co.test', role: 'admin', password: alphaPassword });
    if (created.status !== 201)
      throw new Error(`user: ${created.status} ${JSON.stringify(created.body)}`);
    const invited = await platform
      .api()
      .post(`/v1/tenants/${alpha.id}/users`)
      .set('Authorization', `Bearer ${platform.adminToken}`)
      .send({ email: 'invited@alpha-co.test', role: 'member' });
    if (invited.status !== 201)
      throw new Error(`invite: ${invited.status} ${JSON.stringify(invited.body)}`);
    [alphaToken, betaToken, viewerToken] = await Promise.all([
      platform.signIn('alpha-co'),
      platform.signIn('beta-co'),
      platform.signIn('alpha-co', 'viewer@alpha-co.test', 'viewer'),
    ]);
    const key = await currentSigningKey(platform, alpha.id);
    secret = key.secret;
    signingKid = key.kid;
  });

  afterAll(async () => {
    await platform?.stop();
  });

  describe('login', () => {
    const login = (tenant: TenantSummary, body: unknown) =>
      dp()
        .post('/api/auth/login')
        .set('Host', hostOf(tenant))
        .send(body as object);

    it('issues a token bound to the tenant for the right password', async () => {
      const response = await login(alpha, { email: 'jane@alpha-co.test', password: alphaPassword });
      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual([
        'accessToken',
        'expiresIn',
        'refreshToken',
      ]);
      const claims = claimsOf(response.body.accessToken);
      expect(claims).toMatchObject({
        aud: alpha.id,
        iss: ISSUER,
        role: 'admin',
        sub: expect.any(String),
      });
      const projects = await dp()
        .get('/api/projects')
        .set('Host', hostOf(alpha))
        .set('Authorization', `Bearer ${response.body.accessToken}`);
      expect(projects.status).toBe(200);
    });

    it('treats the e-mail case-insensitively', async () => {
      const response = await login(alpha, { email: 'Jane@Alpha-Co.TEST', password: alphaPassword });
      expect(response.status).toBe(200);
    });

    it('answers a wrong password and an unknown e-mail with the same 401', async () => {
      const wrongPassword = await login(alpha, {
        email: 'jane@alpha-co.test',
        password: 'not-the-password',
      });
      const unknownEmail = await login(alpha, {
        email: 'nobody@alpha-co.test',
        password: alphaPassword,
      });
      const invitedOnly = await login(alpha, {
        email: 'invited@alpha-co.test',
        password: alphaPassword,
      });
      expect(wrongPassword.status).toBe(401);
      expect(wrongPassword.body).toEqual({
        error: 'invalid_credentials',
        message: expect.any(String),
      });
      expect(unknownEmail.status).toBe(401);
      expect(unknownEmail.body).toEqual(wrongPassword.body);
      expect(invitedOnly.status).toBe(401);
      expect(invitedOnly.body).toEqual(wrongPassword.body);
      expect(unknownEmail.headers['www-authenticate']).toEqual(
        wrongPassword.headers['www-authenticate'],
      );
    });

    it('refuses a user’s credentials on another tenant’s host', async () => {
      const response = await login(beta, { email: 'jane@alpha-co.test', password: alphaPassword });
      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ error: 'invalid_credentials' });
    });

    it('rejects a malformed login body with 400 before any lookup', async () => {
      const notEmail = await login(alpha, { email: 'jane', password: alphaPassword });
      expect(notEmail.status).toBe(400);
      expect(notEmail.body).toMatchObject({ error: 'validation_failed' });
      const noPassword = await login(alpha, { email: 'jane@alpha-co.test' });
      expect(noPassword.status).toBe(400);
      const extra = await login(alpha, {
        email: 'jane@alpha-co.test',
        password: alphaPassword,
        role: 'admin',
      });
      expect(extra.status).toBe(400);
    });
  });

  describe('access tokens', () => {
    const listOn = (tenant: TenantSummary, authorization?: string) => {
      const call = dp().get('/api/projects').set('Host', hostOf(tenant));
      return authorization === undefined ? call : call.set('Authorization', authorization);
    };
    const unauthenticated = { error: 'unauthenticated', message: expect.any(String) };

    it('refuses tenant A’s token on tenant B’s host for GET and POST, and creates nothing in B', async () => {
      const before = await projectNames(beta);
      const list = await listOn(beta, `Bearer ${alphaToken}`);
      expect(list.status).toBe(401);
      expect(list.body).toEqual(unauthenticated);
      const create = await dp()
        .post('/api/projects')
        .set('Host', hostOf(beta))
        .set('Authorization', `Bearer ${alphaToken}`)
        .send({ name: 'alpha-co-sneaks-into-beta' });
      expect(create.status).toBe(401);
      expect(create.body).toEqual(unauthenticated);
      expect(await projectNames(beta)).toEqual(before);
      // And the other way round.
      expect((await listOn(alpha, `Bearer ${betaToken}`)).status).toBe(401);
      // Each token works on its own host.
      expect((await listOn(alpha, `Bearer ${alphaToken}`)).status).toBe(200);
      expect((await listOn(beta, `Bearer ${betaToken}`)).status).toBe(200);
    });

    it.each(['bearer', 'BEARER', 'bEaReR'])(
      'reads the scheme case-insensitively (%s), and still only on its own host',
      async (scheme) => {
        const own = await listOn(alpha, `${scheme} ${alphaToken}`);
        expect(own.status).toBe(200);
        expect(own.body).toEqual((await listOn(alpha, `Bearer ${alphaToken}`)).body);
        expect((await listOn(beta, `${scheme} ${alphaToken}`)).status).toBe(401);
      },
    );

    it('refuses a request without a token', async () => {
      const response = await listOn(alpha);
      expect(response.status).toBe(401);
      expect(response.body).toEqual(unauthenticated);
    });

    it.each([
      ['the token without the Bearer scheme', () => alphaToken],
      ['the Basic scheme', () => `Basic ${Buffer.from('jane@alpha-co.test:x').toString('base64')}`],
      ['Bearer with nothing after it', () => 'Bearer '],
      ['Bearer and garbage', () => 'Bearer not-a-token-at-all'],
      ['a tampered signature', () => `Bearer ${flipChar(alphaToken, 2)}`],
      ['a tampered claims part', () => `Bearer ${flipChar(alphaToken, 1)}`],
      ['a tampered header', () => `Bearer ${flipChar(alphaToken, 0)}`],
      [
        'a token with its signature cut off',
        () => `Bearer ${alphaToken.split('.').slice(0, 2).join('.')}.`,
      ],
      ['two tokens', () => `Bearer ${alphaToken} ${alphaToken}`],
    ])('refuses %s with 401', async (_label, authorization) => {
      const response = await listOn(alpha, authorization());
      expect(response.status).toBe(401);
      expect(response.body).toEqual(unauthenticated);
    });

    it('refuses a token in the query string', async () => {
      const response = await dp()
        .get(`/api/projects?access_token=${alphaToken}`)
        .set('Host', hostOf(alpha));
      expect([400, 401]).toContain(response.status);
    });

    describe('hand-made tokens', () => {
      const now = () => Math.floor(Date.now() / 1000);
      const claimsFor = (tenant: TenantSummary, extra: Record<string, unknown> = {}) => ({
        sub: claimsOf(alphaToken).sub,
        role: 'admin',
        aud: tenant.id,
        iss: ISSUER,
        iat: now(),
        exp: now() + 600,
        ...extra,
      });

      it('accepts a correctly signed one (so the refusals below are about what they change)', async () => {
        const token = makeToken(
          { alg: 'HS256', typ: 'JWT' },
          claimsFor(alpha),
          hmac('sha256', secret),
        );
        expect((await listOn(alpha, `Bearer ${token}`)).status).toBe(200);
      });

      it.each([
        [
          'alg none, unsigned',
          () => makeToken({ alg: 'none', typ: 'JWT' }, claimsFor(alpha), null),
        ],
        [
          'alg NONE, unsigned',
          () => makeToken({ alg: 'NONE', typ: 'JWT' }, claimsFor(alpha), null),
        ],
        [
          'alg none with the real signature kept',
          () => {
            const real = makeToken(
              { alg: 'HS256', typ: 'JWT' },
              claimsFor(alpha),
              hmac('sha256', secret),
            );
            return `${b64url({ alg: 'none', typ: 'JWT', kid: signingKid })}.${real.split('.').slice(1).join('.')}`;
          },
        ],
        [
          'HS512 with the real secret',
          () => makeToken({ alg: 'HS512', typ: 'JWT' }, claimsFor(alpha), hmac('sha512', secret)),
        ],
        [
          'HS256 with another secret',
          () =>
            makeToken(
              { alg: 'HS256', typ: 'JWT' },
              claimsFor(alpha),
              hmac('sha256', 'x'.repeat(64)),
            ),
        ],
        [
          'the audience of another tenant',
          () => makeToken({ alg: 'HS256' }, claimsFor(beta), hmac('sha256', secret)),
        ],
        [
          'no audience',
          () =>
            makeToken(
              { alg: 'HS256' },
              claimsFor(alpha, { aud: undefined }),
              hmac('sha256', secret),
            ),
        ],
        [
          'the tenant slug as audience',
          () =>
            makeToken(
              { alg: 'HS256' },
              claimsFor(alpha, { aud: alpha.slug }),
              hmac('sha256', secret),
            ),
        ],
        [
          'another issuer',
          () =>
            makeToken(
              { alg: 'HS256' },
              claimsFor(alpha, { iss: 'control-plane' }),
              hmac('sha256', secret),
            ),
        ],
        [
          'an expired token',
          () =>
            makeToken(
              { alg: 'HS256' },
              claimsFor(alpha, { iat: now() - 7200, exp: now() - 3600 }),
              hmac('sha256', secret),
            ),
        ],
        [
          'a token issued an hour from now',
          () =>
            makeToken(
              { alg: 'HS256' },
              claimsFor(alpha, { iat: now() + 3600, exp: now() + 7200 }),
              hmac('sha256', secret),
            ),
        ],
        [
          'a token without its issue time',
          () =>
            makeToken(
              { alg: 'HS256' },
              claimsFor(alpha, { iat: undefined }),
              hmac('sha256', secret),
            ),
        ],
        [
          'an unknown role',
          () =>
            makeToken(
              { alg: 'HS256' },
              claimsFor(alpha, { role: 'superuser' }),
              hmac('sha256', secret),
            ),
        ],
        [
          'a non-string subject',
          () => makeToken({ alg: 'HS256' }, claimsFor(alpha, { sub: 42 }), hmac('sha256', secret)),
        ],
      ])('refuses %s with 401', async (_label, token) => {
        const response = await listOn(alpha, `Bearer ${token()}`);
        expect(response.status).toBe(401);
        expect(response.body).toEqual(unauthenticated);
      });
    });
  });

  describe('projects', () => {
    const post = (tenant: TenantSummary, token: string) =>
      dp()
        .post('/api/projects')
        .set('Host', hostOf(tenant))
        .set('Authorization', `Bearer ${token}`);
    const list = (tenant: TenantSummary, token: string, query = '') =>
      dp()
        .get(`/api/projects${query}`)
        .set('Host', hostOf(tenant))
        .set('Authorization', `Bearer ${token}`);

    it('creates a project and lists it', async () => {
      const created = await post(alpha, alphaToken).send({
        name: 'alpha-co-first',
        description: 'the first',
      });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: 'alpha-co-first',
        description: 'the first',
        createdBy: claimsOf(alphaToken).sub,
        createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      });
      const noDescription = await post(alpha, alphaToken).send({ name: 'alpha-co-second' });
      expect(noDescription.status).toBe(201);
      expect(noDescription.body.description).toBe('');

      const listed = await list(alpha, alphaToken, '?limit=100');
      expect(listed.status).toBe(200);
      const names = (listed.body.items as { name: string }[]).map((item) => item.name);
      expect(names).toEqual(expect.arrayContaining(['alpha-co-first', 'alpha-co-second']));
      // The list is serialized by its response schema, the create by JSON.stringify: the same.
      expect(listed.body.items).toContainEqual(created.body);
      // Nothing of it shows on beta.
      const betaList = await list(beta, betaToken, '?limit=100');
      expect(
        (betaList.body.items as { name: string }[]).some((item) =>
          item.name.startsWith('alpha-co'),
        ),
      ).toBe(false);
    });

    it('paginates with limit and offset, newest first, without gaps or repeats', async () => {
      const pagerToken = await platform.signIn('page-co');
      const made: string[] = [];
      for (let i = 1; i <= 7; i++) {
        const created = await post(pager, pagerToken).send({ name: `page-co-${i}` });
        expect(created.status).toBe(201);
        made.push(created.body.id as string);
      }
      const all = await list(pager, pagerToken, '?limit=100');
      expect((all.body.items as { id: string }[]).map((item) => item.id)).toEqual(
        [...made].reverse(),
      );

      const pages: string[][] = [];
      for (const offset of [0, 3, 6, 9]) {
        const page = await list(pager, pagerToken, `?limit=3&offset=${offset}`);
        expect(page.status).toBe(200);
        pages.push((page.body.items as { id: string }[]).map((item) => item.id));
      }
      expect(pages.map((page) => page.length)).toEqual([3, 3, 1, 0]);
      expect(pages.flat()).toEqual([...made].reverse());

      const defaultPage = await list(pager, pagerToken);
      expect(defaultPage.body.items).toHaveLength(7); // default limit 20
    });

    it.each([
      ['limit above 100', '?limit=101', 'limit', 'max'],
      ['limit not a number', '?limit=abc', 'limit', 'isInt'],
      ['limit zero', '?limit=0', 'limit', 'min'],
      ['limit fractional', '?limit=1.5', 'limit', 'isInt'],
      ['limit empty', '?limit=', 'limit', 'isInt'],
      ['limit in hexadecimal', '?limit=0x10', 'limit', 'isInt'],
      ['offset in exponent notation', '?offset=1e3', 'offset', 'isInt'],
      ['negative offset', '?offset=-1', 'offset', 'min'],
      ['offset not a number', '?offset=ten', 'offset', 'isInt'],
      ['an unknown query parameter', '?sort=name', 'sort', 'unknown-property'],
    ])('refuses %s with 400 naming the field and the rule', async (_label, query, field, rule) => {
      const response = await list(alpha, alphaToken, query);
      expect(response.status).toBe(400);
      expect(response.body).toEqual({
        error: 'validation_failed',
        message: expect.any(String),
        details: [{ field, rule, message: expect.any(String) }],
      });
    });

    it('accepts limit=100 exactly', async () => {
      expect((await list(alpha, alphaToken, '?limit=100')).status).toBe(200);
    });

    it('lets a viewer list but not create (403 forbidden), and creates nothing', async () => {
      const before = await projectNames(alpha);
      const refused = await post(alpha, viewerToken).send({ name: 'alpha-co-by-viewer' });
      expect(refused.status).toBe(403);
      expect(refused.body).toEqual({ error: 'forbidden', message: expect.any(String) });
      expect((await list(alpha, viewerToken)).status).toBe(200);
      expect(await projectNames(alpha)).toEqual(before);
    });

    describe('bad bodies create nothing', () => {
      let before: string[];
      beforeAll(async () => {
        before = await projectNames(alpha);
      });

      it('answers malformed JSON with 400 malformed_json', async () => {
        const response = await post(alpha, alphaToken)
          .set('Content-Type', 'application/json')
          .send('{"name": "alpha-co-broken"');
        expect(response.status).toBe(400);
        expect(response.body).toEqual({ error: 'malformed_json', message: expect.any(String) });
        const login = await dp()
          .post('/api/auth/login')
          .set('Host', hostOf(alpha))
          .set('Content-Type', 'application/json')
          .send("{'email': 'jane@alpha-co.test'}");
        expect(login.status).toBe(400);
        expect(login.body).toMatchObject({ error: 'malformed_json' });
      });

      it('answers a body over 100kb with 413', async () => {
        const response = await post(alpha, alphaToken).send({
          name: 'alpha-co-huge',
          description: 'x'.repeat(110 * 1024),
        });
        expect(response.status).toBe(413);
        expect(response.body).toEqual({ error: 'payload_too_large', message: expect.any(String) });
      });

      it('refuses an unknown property with 400 naming it', async () => {
        const response = await post(alpha, alphaToken).send({
          name: 'alpha-co-extra',
          createdBy: 'someone-else',
        });
        expect(response.status).toBe(400);
        expect(response.body).toMatchObject({
          error: 'validation_failed',
          details: [expect.objectContaining({ field: 'createdBy', rule: 'unknown-property' })],
        });
      });

      it.each([
        ['a missing name', {}, 'name', 'isString'],
        ['an empty name', { name: '' }, 'name', 'minLength'],
        ['a name of blanks only', { name: ' \t ' }, 'name', 'minLength'],
        ['a 201-character name', { name: 'a'.repeat(201) }, 'name', 'maxLength'],
        ['a numeric name', { name: 42 }, 'name', 'isString'],
        ['a name with a bell', { name: 'ring\u0007' }, 'name', 'no-control-character'],
        ['a name with a bidi override', { name: 'a\u202efdp.exe' }, 'name', 'no-control-character'],
        ['a name with a line break', { name: 'two\nlines' }, 'name', 'no-control-character'],
        [
          'a description over 5000 characters',
          { name: 'alpha-co-long', description: 'd'.repeat(5001) },
          'description',
          'maxLength',
        ],
      ])('refuses %s with 400 naming the field and the rule', async (_label, body, field, rule) => {
        const response = await post(alpha, alphaToken).send(body);
        expect(response.status).toBe(400);
        expect(response.body).toEqual({
          error: 'validation_failed',
          message: expect.any(String),
          details: [{ field, rule, message: expect.any(String) }],
        });
      });

      it('refuses an array body with 400, saying a body is an object', async () => {
        const response = await post(alpha, alphaToken).send([{ name: 'alpha-co-array' }]);
        expect(response.status).toBe(400);
        expect(response.body).toEqual({
          error: 'malformed_json',
          message: 'request body must be a JSON object',
        });
      });

      it('does not accept a JSON body sent as text/plain', async () => {
        const response = await post(alpha, alphaToken)
          .set('Content-Type', 'text/plain')
          .send(JSON.stringify({ name: 'alpha-co-plain' }));
        expect(response.status).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
      });

      it('left the tenant’s projects exactly as they were', async () => {
        expect(before.length).toBeGreaterThan(0);
        expect(await projectNames(alpha)).toEqual(before);
      });
    });

    it('stores a project name without its leading and trailing blanks', async () => {
      const response = await post(alpha, alphaToken).send({ name: '  alpha-co-trimmed \n' });
      expect(response.status).toBe(201);
      expect(response.body.name).toBe('alpha-co-trimmed');
      expect(await projectNames(alpha)).toContain('alpha-co-trimmed');
    });
  });

  describe('password reset with mail off', () => {
    // On page-co: alpha-co is at its plan's user quota.
    it('hands the one-time link to the operator (nothing to mail it with); the link works once', async () => {
      const admin = { Authorization: `Bearer ${platform.adminToken}` };
      const created = await platform
        .api()
        .post(`/v1/tenants/${pager.slug}/users`)
        .set(admin)
        .send({ email: 'erin@page-co.test', role: 'member', password: 'erin-password-12345' });
      expect(created.status).toBe(201);
      const issued = await platform
        .api()
        .post(`/v1/tenants/${pager.slug}/users/${created.body.id as string}/password-reset`)
        .set(admin);
      expect(issued.status).toBe(201);
      expect(issued.body).toEqual({
        userId: created.body.id,
        expiresAt: expect.any(String),
        delivery: 'link',
        url: expect.stringMatching(
          /^http:\/\/page-co\.platform\.test(:\d+)?\/welcome\?purpose=reset&token=[A-Za-z0-9_-]{43}$/,
        ),
      });
      const mail = await platform.api().get(`/v1/tenants/${pager.slug}/mail`).set(admin);
      expect((mail.body as { kind: string }[]).map((row) => row.kind)).not.toContain(
        'password-reset',
      );
      const token = new URL(issued.body.url as string).searchParams.get('token');
      const reset = () =>
        dp()
          .post('/api/auth/reset-password')
          .set('Host', hostOf(pager))
          .send({ token, password: 'erin-new-password-1' });
      expect((await reset()).status).toBe(204);
      expect((await reset()).status).toBe(400);
      const login = await dp()
        .post('/api/auth/login')
        .set('Host', hostOf(pager))
        .send({ email: 'erin@page-co.test', password: 'erin-new-password-1' });
      expect(login.status).toBe(200);
    });
  });

  describe('lookups', () => {
    it('lists the 249 seeded countries, Germany among them', async () => {
      const response = await dp().get('/api/lookups/countries').set('Host', hostOf(alpha));
      expect(response.status).toBe(200);
      expect(response.body.items).toHaveLength(249);
      expect(response.body.items).toContainEqual(
        expect.objectContaining({ alpha2: 'DE', alpha3: 'DEU', name: 'Germany' }),
      );
      expect(new Set((response.body.items as { alpha2: string }[]).map((c) => c.alpha2)).size).toBe(
        249,
      );
    });

    it('lists the 179 seeded currencies, EUR with 2 minor units', async () => {
      const response = await dp().get('/api/lookups/currencies').set('Host', hostOf(beta));
      expect(response.status).toBe(200);
      expect(response.body.items).toHaveLength(179);
      expect(response.body.items).toContainEqual(
        expect.objectContaining({ code: 'EUR', minorUnit: 2 }),
      );
      expect(response.body.items).toContainEqual(
        expect.objectContaining({ code: 'JPY', minorUnit: 0 }),
      );
    });

    it('reads each tenant’s own copy of the lookups', async () => {
      const db = new Client({ connectionString: platform.database.url });
      await db.connect();
      try {
        await db.query(
          `UPDATE "${beta.schema}".countries SET name = 'Germany (beta edition)' WHERE alpha2 = 'DE'`,
        );
      } finally {
        await db.end();
      }
      const inBeta = await dp().get('/api/lookups/countries').set('Host', hostOf(beta));
      const inAlpha = await dp().get('/api/lookups/countries').set('Host', hostOf(alpha));
      const germany = (body: { items: { alpha2: string; name: string }[] }) =>
        body.items.find((country) => country.alpha2 === 'DE')?.name;
      expect(germany(inBeta.body)).toBe('Germany (beta edition)');
      expect(germany(inAlpha.body)).toBe('Germany');
    });
  });
});
