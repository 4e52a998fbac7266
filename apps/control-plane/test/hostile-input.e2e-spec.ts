/**
 * Bad input against the real control plane (SPEC.md "Quality bars": hostile slugs, hostnames
 * and bodies get a clear 4xx and create nothing). Each refusal is checked twice: the answer
 * names the field, and the registry and the catalog did not change.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { startPlatform, type RunningPlatform } from '../../../test/platform-harness';

const suffix = () => randomBytes(3).toString('hex');

function tenantBody(slug: unknown, extra: Record<string, unknown> = {}) {
  const label = typeof slug === 'string' && /^[a-z0-9-]{3,40}$/.test(slug) ? slug : `x${suffix()}`;
  return { slug, name: `Tenant ${label}`, adminEmail: `admin@${label}.test`, ...extra };
}

interface ErrorBody {
  error: string;
  details?: { field: string; rule: string }[];
}

const fieldsOf = (body: unknown): string[] =>
  ((body as ErrorBody).details ?? []).map((d) => d.field);

/** Slugs that must never become a tenant; [label, value]. */
const HOSTILE_SLUGS: [string, unknown][] = [
  ['SQL injection', "acme'; DROP SCHEMA platform CASCADE;--"],
  ['SQL injection (quote only)', "acme'--"],
  ['a pg_ catalog name', 'pg_catalog'],
  ['pg- prefix', 'pg-admin'],
  ['pg + digit', 'pg1'],
  ['pg + digits and letters', 'pg15-main'],
  ['reserved www', 'www'],
  ['reserved api', 'api'],
  ['reserved admin', 'admin'],
  ['reserved public', 'public'],
  ['reserved information_schema', 'information_schema'],
  ['41 characters', 'a'.repeat(41)],
  ['64 characters', 'b'.repeat(64)],
  ['10,000 characters', 'c'.repeat(10_000)],
  ['upper case', 'Acme'],
  ['unicode letter', 'äcme'],
  ['emoji', 'acme🚀'],
  ['leading hyphen', '-acme'],
  ['trailing hyphen', 'acme-'],
  ['punycode label', 'xn--abc'],
  ['hyphens in positions 3-4', 'ab--cd'],
  ['empty string', ''],
  ['whitespace only', '   '],
  ['surrounding whitespace', ' acme '],
  ['one character', 'a'],
  ['two characters', 'ab'],
  ['null', null],
  ['a number', 123],
  ['a boolean', true],
  ['an array', ['acme']],
  ['an object', { $ne: '' }],
  ['a dot', 'acme.evil'],
  ['an underscore', 'acme_corp'],
  ['path traversal', '../etc'],
  ['url-encoded NUL', '%00'],
  ['a NUL byte', 'acme\u0000x'],
  ['a trailing newline', 'acme\n'],
  ['a CRLF header injection', 'acme\r\nX-Evil: 1'],
  ['a slash', 'acme/evil'],
  ['a zero-width space', 'ac\u200bme'],
  ['a full-width letter', 'ａcme'],
];

/** Custom domains a tenant must never claim; [value, expected error code]. */
const HOSTILE_DOMAINS: [unknown, string][] = [
  ['127.0.0.1', 'invalid_custom_domain'],
  ['10.0.0.1', 'invalid_custom_domain'],
  ['0x7f.1', 'invalid_custom_domain'],
  ['[::1]', 'invalid_custom_domain'],
  ['::1', 'invalid_custom_domain'],
  ['*.evil.com', 'invalid_custom_domain'],
  ['evil.com:443', 'invalid_custom_domain'],
  ['platform.test', 'invalid_custom_domain'],
  ['x.platform.test', 'invalid_custom_domain'],
  ['X.Platform.Test', 'invalid_custom_domain'],
  ['deep.x.platform.test.', 'invalid_custom_domain'],
  ['localhost', 'invalid_custom_domain'],
  ['-bad.com', 'invalid_custom_domain'],
  ['bad-.com', 'invalid_custom_domain'],
  ['a..b.com', 'invalid_custom_domain'],
  ['.evil.com', 'invalid_custom_domain'],
  ['http://evil.com', 'invalid_custom_domain'],
  ['evil.com/path', 'invalid_custom_domain'],
  ['user@evil.com', 'invalid_custom_domain'],
  ['evil com', 'invalid_custom_domain'],
  ['evil.com\u0000.x', 'validation_failed'],
  ['_acme-challenge.evil.com', 'invalid_custom_domain'],
  [`${'a'.repeat(64)}.com`, 'invalid_custom_domain'], // label longer than 63
  [`${'a'.repeat(60)}.`.repeat(5) + 'com', 'validation_failed'], // 308 characters: over the DTO's 253
  ['   ', 'invalid_custom_domain'],
  [123, 'validation_failed'],
  [['evil.com'], 'validation_failed'],
  [{ host: 'evil.com' }, 'validation_failed'],
];

describe('control plane: hostile input', () => {
  let platform: RunningPlatform;
  let db: Client;

  const bearer = () => `Bearer ${platform.adminToken}`;
  const create = (body: unknown) =>
    platform
      .api()
      .post('/v1/tenants')
      .set('Authorization', bearer())
      .send(body as object);
  /** The body's text as given: what JSON.stringify would not write, or would write otherwise. */
  const createRaw = (raw: string) =>
    platform
      .api()
      .post('/v1/tenants')
      .set('Authorization', bearer())
      .set('Content-Type', 'application/json')
      .send(raw);

  /**
   * Rows in the registry and tenant schemas in the catalog: what a refusal must not change.
   * Waits first until no tenant is provisioning, so that a tenant another test created (or one
   * a refusal wrongly let through) has made its schema before anything is counted.
   */
  const footprint = async () => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const pending = await db.query(
        `SELECT count(*)::int AS n FROM platform.tenants WHERE status = 'provisioning'`,
      );
      if (pending.rows[0].n === 0 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const { rows } = await db.query(
      `SELECT (SELECT count(*) FROM platform.tenants)::int AS tenants,
              (SELECT count(*) FROM platform.tenant_domains)::int AS domains,
              (SELECT count(*) FROM platform.provisioning_steps)::int AS steps,
              (SELECT count(*) FROM platform.idempotency_keys)::int AS keys,
              (SELECT count(*) FROM pg_namespace WHERE nspname LIKE 't\\_%')::int AS schemas,
              (SELECT count(*) FROM pg_namespace WHERE nspname = 'platform')::int AS platform_schema`,
    );
    return rows[0] as Record<string, number>;
  };

  beforeAll(async () => {
    platform = await startPlatform();
    db = new Client({ connectionString: platform.database.url });
    await db.connect();
    // One real tenant, so that "unchanged" is measured against a non-empty registry.
    await platform.createTenant(`baseline-${suffix()}`);
  });

  afterAll(async () => {
    await db?.end();
    await platform?.stop();
  });

  describe('slugs', () => {
    it.each(HOSTILE_SLUGS)('refuses %s with 400 naming slug', async (_label, slug) => {
      const before = await footprint();
      const response = await create(tenantBody(slug));
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('validation_failed');
      // The slug rule names what broke; a NUL is refused for every field before validation.
      const rule =
        typeof slug === 'string' && slug.includes('\u0000') ? 'no-nul-character' : 'slug';
      expect(response.body.details).toEqual(
        expect.arrayContaining([expect.objectContaining({ field: 'slug', rule })]),
      );
      expect(typeof response.body.message).toBe('string');
      expect(await footprint()).toEqual(before);
    });

    it('names the broken rule in the message', async () => {
      const cases: [string, string][] = [
        ['ab', 'length'],
        ['Acme', 'charset'],
        ['-acme', 'hyphen-edge'],
        ['xn--abc', 'double-hyphen'],
        ['www', 'reserved'],
        ['pg-admin', 'reserved'],
      ];
      for (const [slug, rule] of cases) {
        const response = await create(tenantBody(slug));
        expect(response.status).toBe(400);
        expect(response.body.details[0].message).toContain(`rule: ${rule}`);
      }
    });

    it('creates nothing for the whole hostile batch sent at once, and the registry survives', async () => {
      const before = await footprint();
      const responses = await Promise.all(
        HOSTILE_SLUGS.map(([, slug]) => create(tenantBody(slug))),
      );
      expect(responses.map((response) => response.status)).toEqual(HOSTILE_SLUGS.map(() => 400));
      // Give a (wrongly) enqueued provisioning job the time to create a schema.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const after = await footprint();
      expect(after).toEqual(before);
      expect(after.platform_schema).toBe(1);
      // Still working after the injection attempts.
      const list = await platform.api().get('/v1/tenants').set('Authorization', bearer());
      expect(list.status).toBe(200);
      expect(list.body.total).toBe(before.tenants);
    });

    it('still accepts a valid slug at the limits (3 and 40 characters)', async () => {
      const short = `${suffix().slice(0, 2)}z`;
      const long = `l${suffix()}${'x'.repeat(33)}`;
      expect(long).toHaveLength(40);
      for (const slug of [short, long]) {
        const tenant = await platform.createTenant(slug);
        expect(tenant.slug).toBe(slug);
      }
    });
  });

  describe('bodies', () => {
    const expectRefused = async (
      response: { status: number; body: { error: string; message?: string } },
      error: string,
    ) => {
      expect(response.status).toBe(400);
      expect(response.body.error).toBe(error);
    };

    it('refuses an array body, saying a body is an object', async () => {
      const before = await footprint();
      const response = await create([tenantBody(`arr-${suffix()}`)]);
      expect(response.status).toBe(400);
      expect(response.body).toEqual({
        error: 'malformed_json',
        message: 'request body must be a JSON object',
      });
      expect(await footprint()).toEqual(before);
    });

    it.each([
      ['a JSON string', '"acme"', 'request body must be a JSON object'],
      ['a JSON number', '42', 'request body must be a JSON object'],
      ['JSON null', 'null', 'request body must be a JSON object'],
      ['truncated JSON', '{"slug": "acme", ', 'request body is not valid JSON'],
      ['single-quoted JSON', "{'slug': 'acme'}", 'request body is not valid JSON'],
    ])('refuses %s as malformed_json', async (_label, raw, message) => {
      const response = await createRaw(raw);
      await expectRefused(response, 'malformed_json');
      expect(response.body.message).toBe(message);
    });

    it('refuses a body over 64kb with 413 payload_too_large', async () => {
      const before = await footprint();
      const response = await create(tenantBody(`big-${suffix()}`, { name: 'n'.repeat(70 * 1024) }));
      expect(response.status).toBe(413);
      expect(response.body.error).toBe('payload_too_large');
      expect(await footprint()).toEqual(before);
    });

    it('does not create a tenant from a form-encoded or text body', async () => {
      const before = await footprint();
      const slug = `form-${suffix()}`;
      const form = await platform
        .api()
        .post('/v1/tenants')
        .set('Authorization', bearer())
        .type('form')
        .send({ slug, name: 'Form', adminEmail: 'a@form.test' });
      expect(form.status).toBe(415);
      expect(form.body.error).toBe('unsupported_media_type');
      const text = await platform
        .api()
        .post('/v1/tenants')
        .set('Authorization', bearer())
        .set('Content-Type', 'text/plain')
        .send(JSON.stringify({ slug, name: 'Text', adminEmail: 'a@text.test' }));
      expect(text.status).toBe(415);
      expect(await footprint()).toEqual(before);
    });

    it.each([
      ['isAdmin', true],
      ['status', 'active'],
      ['id', '00000000-0000-4000-8000-000000000000'],
      ['schema', 'public'],
      ['schemaName', 'platform'],
      ['cluster', 'other'],
      ['templateVersion', 99],
    ])('refuses the unknown property %s with rule unknown-property', async (property, value) => {
      const before = await footprint();
      const response = await create(tenantBody(`unk-${suffix()}`, { [property]: value }));
      await expectRefused(response, 'validation_failed');
      expect(response.body.details).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ field: property, rule: 'unknown-property' }),
        ]),
      );
      expect(await footprint()).toEqual(before);
    });

    it('does not let __proto__ or constructor in the body pollute prototypes', async () => {
      const slug = `proto-${suffix()}`;
      const raw =
        `{"slug":"${slug}","name":"Proto","adminEmail":"a@proto.test",` +
        `"__proto__":{"isAdmin":true,"status":"active"},"constructor":{"prototype":{"polluted":true}}}`;
      const response = await createRaw(raw);
      // Refused as unknown properties (class-transformer used to drop them unseen: a 202), and
      // nothing reaches a prototype or the registry.
      expect(response.status).toBe(400);
      expect(fieldsOf(response.body)).toEqual(['__proto__', 'constructor']);
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('status');
      const stored = await db.query('SELECT 1 FROM platform.tenants WHERE slug = $1', [slug]);
      expect(stored.rows).toEqual([]);
    });

    it.each([
      ['name', { name: 'n'.repeat(201) }],
      ['name', { name: '' }],
      ['name', { name: { first: 'Acme' } }],
      ['name', { name: ['Acme'] }],
      ['name', { name: null }],
      ['adminEmail', { adminEmail: 'not-an-email' }],
      ['adminEmail', { adminEmail: "x'); DROP TABLE platform.tenants;--@a.com" }],
      ['adminEmail', { adminEmail: 'a@b.c\r\nBcc: victim@example.com' }],
      ['adminEmail', { adminEmail: `${'a'.repeat(250)}@example.com` }],
      ['adminEmail', { adminEmail: { $gt: '' } }],
      ['plan', { plan: 'platinum' }],
      ['plan', { plan: 'FREE' }],
      ['plan', { plan: ['pro'] }],
      ['plan', { plan: 1 }],
    ])('refuses a bad %s (%j) with 400 naming it', async (field, extra) => {
      const before = await footprint();
      const response = await create(tenantBody(`fld-${suffix()}`, extra));
      await expectRefused(response, 'validation_failed');
      expect(fieldsOf(response.body)).toContain(field);
      expect(await footprint()).toEqual(before);
    });

    it('refuses a name made only of whitespace', async () => {
      // Regression: the name is trimmed before MinLength is checked, not after.
      const slug = `blank-${suffix()}`;
      const response = await create(tenantBody(slug, { name: '   ' }));
      expect(response.status).toBe(400);
      expect(fieldsOf(response.body)).toContain('name');
      const rows = await db.query('SELECT name FROM platform.tenants WHERE slug = $1', [slug]);
      expect(rows.rows).toEqual([]);
    });

    it('refuses a body missing every field, naming each one', async () => {
      const response = await create({});
      await expectRefused(response, 'validation_failed');
      const fields = fieldsOf(response.body);
      expect(fields).toEqual(expect.arrayContaining(['slug', 'name', 'adminEmail']));
    });
  });

  describe('custom domains', () => {
    it.each(HOSTILE_DOMAINS)(
      'refuses customDomain %j with 400 %s and creates nothing',
      async (customDomain, error) => {
        const before = await footprint();
        const slug = `dom-${suffix()}`;
        const response = await create(tenantBody(slug, { customDomain }));
        expect(response.status).toBe(400);
        expect(response.body.error).toBe(error);
        if (error === 'validation_failed') {
          expect(fieldsOf(response.body)).toContain('customDomain');
        }
        expect(await footprint()).toEqual(before);
      },
    );

    it('treats an empty customDomain like an absent one', async () => {
      // Observed: `customDomain: ""` (what a form sends for an empty optional field) is ignored,
      // as null is; only the platform subdomain is recorded.
      const tenant = await platform.createTenant(`dom-empty-${suffix()}`, { customDomain: '' });
      const view = await platform
        .api()
        .get(`/v1/tenants/${tenant.id}`)
        .set('Authorization', bearer());
      expect(view.body.domains).toEqual([
        { hostname: `${tenant.slug}.platform.test`, kind: 'subdomain', status: 'active' },
      ]);
    });

    it('stores a valid custom domain normalised: lower case, no trailing dot, IDN in punycode', async () => {
      const base = suffix();
      const upper = `App.${base}.Example.COM.`;
      const expected = `app.${base}.example.com`;
      const tenant = await platform.createTenant(`norm-${suffix()}`, { customDomain: upper });
      const view = await platform
        .api()
        .get(`/v1/tenants/${tenant.id}`)
        .set('Authorization', bearer());
      expect(view.body.domains).toEqual(
        expect.arrayContaining([
          { hostname: expected, kind: 'custom', status: 'pending_verification' },
        ]),
      );

      // The same hostname spelled differently is the same hostname.
      const clash = await create(
        tenantBody(`norm-b-${suffix()}`, { customDomain: expected.toUpperCase() }),
      );
      expect(clash.status).toBe(409);
      expect(clash.body.error).toBe('hostname_taken');

      const idn = await platform.createTenant(`norm-idn-${suffix()}`, {
        customDomain: `bücher-${base}.example`,
      });
      const idnView = await platform
        .api()
        .get(`/v1/tenants/${idn.id}`)
        .set('Authorization', bearer());
      const domains = idnView.body.domains as { hostname: string; kind: string }[];
      const custom = domains.find((domain) => domain.kind === 'custom');
      expect(custom?.hostname).toMatch(/^xn--/);
      expect(custom?.hostname).toBe(new URL(`http://bücher-${base}.example`).hostname);
    });

    it('does not treat a look-alike of the platform domain as the platform domain', async () => {
      const tenant = await platform.createTenant(`look-${suffix()}`, {
        customDomain: `app.not${suffix()}platform.test`,
      });
      expect(tenant.status).toBe('active');
    });
  });

  describe('Idempotency-Key header', () => {
    it.each([
      ['spaces', 'my key', 'noSpaces'],
      ['201 characters', 'k'.repeat(201), 'maxLength'],
      ['a tab', 'key\tvalue', 'printableAscii'],
      ['a non-ASCII character', 'clé', 'printableAscii'],
      ['an empty value', '', 'notEmpty'],
    ])('refuses a key with %s with 400 and creates nothing', async (_label, key, rule) => {
      const before = await footprint();
      const slug = `ikey-${suffix()}`;
      const response = await create(tenantBody(slug)).set('Idempotency-Key', key);
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('validation_failed');
      expect(response.body.details).toEqual([
        expect.objectContaining({ field: 'Idempotency-Key', rule }),
      ]);
      expect(response.body.message).toMatch(/^Idempotency-Key must /);
      expect(await footprint()).toEqual(before);
    });

    it('accepts a key of exactly 200 printable characters', async () => {
      const key = `${suffix()}${'!~'.repeat(97)}`;
      expect(key).toHaveLength(200);
      const slug = `ikey-ok-${suffix()}`;
      const response = await create(tenantBody(slug)).set('Idempotency-Key', key);
      expect(response.status).toBe(202);
      await platform.waitForStatus(response.body.id, 'active');
    });
  });

  describe('paths and queries', () => {
    it.each([
      ['a quoted injection', "x' OR '1'='1"],
      ['an encoded DROP SCHEMA', '%27%3B%20DROP%20SCHEMA%20platform%20CASCADE%3B--'],
      ['an encoded traversal', '..%2F..%2Fetc%2Fpasswd'],
      ['5,000 characters', 'z'.repeat(5000)],
      ['an emoji', '%F0%9F%9A%80'],
    ])('answers 404 for a tenant path with %s and breaks nothing', async (_label, raw) => {
      const path = raw.includes('%') ? raw : encodeURIComponent(raw);
      for (const request of [
        platform.api().get(`/v1/tenants/${path}`),
        platform.api().post(`/v1/tenants/${path}/suspend`),
        platform.api().delete(`/v1/tenants/${path}`),
      ]) {
        const response = await request.set('Authorization', bearer());
        expect(response.status).toBe(404);
        expect(response.body.error).toBe('tenant_not_found');
      }
      expect((await footprint()).platform_schema).toBe(1);
    });

    it.each([
      ['status with an injection', 'status=active%27%20OR%20%271%27%3D%271'],
      ['status as an array', 'status[]=active'],
      ['search as an array', 'search[]=a&search[]=b'],
      ['limit in exponent notation', 'limit=1e9'],
      ['a negative limit', 'limit=-1'],
      ['a fractional offset', 'offset=1.5'],
      ['an empty limit', 'limit='],
      ['a hexadecimal offset', 'offset=0x10'],
      ['a 101-character search', `search=${'%25'.repeat(101)}`],
    ])('refuses a query with %s with 400', async (_label, query) => {
      const response = await platform
        .api()
        .get(`/v1/tenants?${query}`)
        .set('Authorization', bearer());
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('validation_failed');
    });

    // PostgreSQL refuses U+0000 in text ("invalid byte sequence for encoding UTF8: 0x00"), so
    // a NUL that reaches a query turns into a 500 unless input is checked first.
    // Refused for every route by libs/http's NUL-character middleware, before any query.
    it.each([
      ['GET', '/v1/tenants/%00', 400],
      ['GET', '/v1/tenants/acme%00', 400],
      ['POST', '/v1/tenants/acme%00x/suspend', 400],
      ['DELETE', '/v1/tenants/%00', 400],
      ['POST', '/v1/tenants/%00/users', 400],
    ])('answers %s %s with %d, not 500', async (method, path, status) => {
      const req = platform
        .api()
        [method.toLowerCase() as 'get' | 'post' | 'delete'](path)
        .set('Authorization', bearer());
      const response =
        method === 'POST' ? await req.send({ email: 'a@example.test', role: 'member' }) : await req;
      expect(response.status).toBe(status);
      expect(response.body.error).toBe('validation_failed');
      expect(fieldsOf(response.body)).toEqual(['url']);
    });

    it.each([
      ['/v1/tenants?search=a%00b', 'search'],
      // An invalid escape made the check decode nothing while the query parser still did: a 500.
      ['/v1/tenants?search=%ff%00', 'search'],
      ['/v1/audit?operator=a%00b&x=%ff', 'operator'],
    ])('answers a NUL byte in the query %s with 400 naming %s, not 500', async (path, field) => {
      const response = await platform.api().get(path).set('Authorization', bearer());
      expect(response.status).toBe(400);
      expect(response.body.details).toEqual([
        expect.objectContaining({ field, rule: 'no-nul-character' }),
      ]);
    });

    it('refuses limits for a deleted tenant (409) and records nothing', async () => {
      const tenant = await platform.createTenant(`gone-${suffix()}`);
      await platform
        .api()
        .delete(`/v1/tenants/${tenant.id}`)
        .set('Authorization', bearer())
        .expect(200);
      const response = await platform
        .api()
        .put(`/v1/tenants/${tenant.id}/limits`)
        .set('Authorization', bearer())
        .send({ maxUsers: 3 });
      expect(response.status).toBe(409);
      expect(response.body.error).toBe('tenant_not_active');
      const { rows } = await db.query(
        `SELECT limit_overrides AS overrides,
                (SELECT count(*)::int FROM platform.audit_log
                  WHERE tenant_id = t.id AND action = 'tenant.limits') AS entries
           FROM platform.tenants t WHERE id = $1`,
        [tenant.id],
      );
      expect(rows[0]).toEqual({ overrides: {}, entries: 0 });
    });

    it.each(['constructor', '__proto__', 'toString'])(
      'refuses a body with the key %s as an unknown property and creates nothing',
      async (key) => {
        // class-transformer drops these names silently: they got past the whitelist (202).
        const before = await footprint();
        const raw = JSON.stringify(tenantBody(`proto-${suffix()}`)).replace(
          /}$/,
          `,"${key}":{"x":1}}`,
        );
        const response = await createRaw(raw);
        expect(response.status).toBe(400);
        expect(response.body.details).toEqual([
          { field: key, rule: 'unknown-property', message: `${key} is not allowed` },
        ]);
        expect(await footprint()).toEqual(before);
      },
    );

    it.each([
      ['name', '{"name":"Acme \\ud800"}'],
      ['adminEmail', '{"adminEmail":"a\\udfff@example.com"}'],
    ])(
      'answers a lone surrogate in %s with 400 naming it and creates nothing',
      async (field, raw) => {
        // Valid JSON, but no character: jsonb refused it in the audit row (a 500), text columns
        // would have stored U+FFFD instead.
        const before = await footprint();
        const body = { ...tenantBody(`sur-${suffix()}`), ...(JSON.parse(raw) as object) };
        const response = await createRaw(JSON.stringify(body));
        expect(response.status).toBe(400);
        expect(response.body.details).toEqual([
          expect.objectContaining({ field, rule: 'well-formed-unicode' }),
        ]);
        expect(await footprint()).toEqual(before);
      },
    );

    it.each([
      ['name', { name: 'Acme\u0000Corp' }],
      ['adminEmail', { adminEmail: 'a\u0000b@example.com' }],
    ])('answers a NUL byte in %s with 400 naming it, not 500', async (field, extra) => {
      // PostgreSQL text cannot hold U+0000: refused (naming the field) before any query.
      const before = await footprint();
      const response = await create(tenantBody(`nul-${suffix()}`, extra));
      expect(response.status).toBe(400);
      expect(fieldsOf(response.body)).toContain(field);
      expect(await footprint()).toEqual(before);
    });

    it('finds nothing (and errors nowhere) for an injection in search', async () => {
      const response = await platform
        .api()
        .get(`/v1/tenants?search=${encodeURIComponent("' OR 1=1 --")}`)
        .set('Authorization', bearer());
      expect(response.status).toBe(200);
      expect(response.body.total).toBe(0);
    });
  });
});
