/**
 * The control plane's tenant API over HTTP, against the real platform (PostgreSQL, Redis, a
 * worker and the data plane): the contract in SPEC.md "Contracts", checked from the outside
 * and, where the API cannot show it, in the catalog and the registry tables.
 */
import { TENANT_TEMPLATE_MIGRATIONS } from '@platform/tenant-template';
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import request from 'supertest';
import { startPlatform, type RunningPlatform } from '../../../test/platform-harness';

const STEP_NAMES = [
  'create-schema',
  'apply-template',
  'seed-lookups',
  'storage-prefix',
  'dns-record',
  'certificate',
  'admin-invite',
  'welcome-mail',
  'activate',
];
/**
 * The harness leaves every outside system off, so these steps are skipped, each saying which
 * setting would turn it on; all other steps do their work.
 */
const SKIPPED_STEP_SETTINGS: Record<string, string> = {
  'storage-prefix': 'STORAGE_PROVIDER',
  'dns-record': 'DNS_PROVIDER',
  certificate: 'ACME_DIRECTORY_URL',
  'welcome-mail': 'MAIL_PROVIDER',
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface StepView {
  step: string;
  status: string;
  attempts: number;
  lastError: string | null;
}

interface TenantView {
  id: string;
  slug: string;
  status: string;
  schema: string;
  provisioningSteps: StepView[];
}

interface Page {
  items: TenantView[];
  total: number;
  limit: number;
  offset: number;
}

interface ErrorBody {
  error: string;
  details?: { field: string; rule: string }[];
}

const idsOf = (body: unknown): string[] => (body as Page).items.map((item) => item.id);
const fieldsOf = (body: unknown): string[] =>
  ((body as ErrorBody).details ?? []).map((d) => d.field);

/** A short random suffix: every test makes its own tenants, so no test depends on another. */
const suffix = () => randomBytes(3).toString('hex');

/** The admin e-mail `tenantBody` and the harness's `createTenant` give a tenant. */
const adminEmailOf = (slug: string) => `admin@${slug}.test`;

function tenantBody(slug: string, extra: Record<string, unknown> = {}) {
  return { slug, name: `Tenant ${slug}`, adminEmail: adminEmailOf(slug), ...extra };
}

/** Polls until `check` stops throwing (data-plane caches are invalidated asynchronously). */
async function eventually(check: () => Promise<void>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describe('control plane: tenants API', () => {
  let platform: RunningPlatform;
  let db: Client;

  const bearer = () => `Bearer ${platform.adminToken}`;
  const get = (path: string) => platform.api().get(path).set('Authorization', bearer());
  const post = (path: string, body?: object) => {
    const req = platform.api().post(path).set('Authorization', bearer());
    return body === undefined ? req : req.send(body);
  };
  const del = (path: string) => platform.api().delete(path).set('Authorization', bearer());
  /** POST /v1/tenants without waiting for provisioning. */
  const createRaw = (slug: string, extra: Record<string, unknown> = {}) =>
    post('/v1/tenants', tenantBody(slug, extra));
  /** The tenant's users other than the admin that onboarding created from `adminEmail`. */
  const usersBesidesAdmin = async (tenant: { schema: string; slug: string }) =>
    (
      await db.query<{ email: string; role: string; password_hash: string | null }>(
        `SELECT email, role, password_hash FROM "${tenant.schema}".users WHERE email <> $1`,
        [adminEmailOf(tenant.slug)],
      )
    ).rows;
  /** Onboarding's admin: role admin, no password until the invite is accepted, one invite. */
  const expectOnboardedAdmin = async (tenant: { schema: string; slug: string }) => {
    const admin = await db.query(
      `SELECT u.role, u.password_hash, count(i.id)::int AS invites
         FROM "${tenant.schema}".users u
         LEFT JOIN "${tenant.schema}".user_invites i ON i.user_id = u.id
        WHERE u.email = $1
        GROUP BY u.id`,
      [adminEmailOf(tenant.slug)],
    );
    expect(admin.rows).toEqual([{ role: 'admin', password_hash: null, invites: 1 }]);
  };
  const countTenants = async (slug: string) =>
    Number(
      (await db.query('SELECT count(*) FROM platform.tenants WHERE slug = $1', [slug])).rows[0]
        .count,
    );

  beforeAll(async () => {
    platform = await startPlatform();
    db = new Client({ connectionString: platform.database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await platform?.stop();
  });

  describe('creation and lookup', () => {
    it('answers POST /v1/tenants with 202 and the provisioning tenant', async () => {
      const slug = `shape-${suffix()}`;
      const response = await createRaw(slug, {
        name: '  Shape Corp  ',
        adminEmail: 'Ops@Shape.TEST',
        plan: 'pro',
      });

      expect(response.status).toBe(202);
      const view = response.body;
      expect(view.id).toMatch(UUID);
      expect(view).toMatchObject({
        slug,
        name: 'Shape Corp',
        plan: 'pro',
        adminEmail: 'ops@shape.test',
        status: 'provisioning',
        schema: `t_${(view.id as string).replace(/-/g, '')}`,
        cluster: 'main',
        templateVersion: expect.any(Number),
        domains: [{ hostname: `${slug}.platform.test`, kind: 'subdomain', status: 'active' }],
      });
      expect(view.schema).toMatch(/^t_[0-9a-f]{32}$/);
      expect((view as TenantView).provisioningSteps.map((step) => step.step)).toEqual(STEP_NAMES);
      for (const step of view.provisioningSteps) {
        expect(step).toEqual(
          expect.objectContaining({
            status: expect.any(String),
            attempts: expect.any(Number),
            lastError: null,
          }),
        );
      }
      // Never derived from the slug: a hostile slug can never become an identifier.
      expect(view.schema).not.toContain(slug);
    });

    it('defaults the plan to free and becomes active, found by id and by slug', async () => {
      const slug = `lookup-${suffix()}`;
      const created = await platform.createTenant(slug);
      expect(created.status).toBe('active');

      const byId = await get(`/v1/tenants/${created.id}`);
      const bySlug = await get(`/v1/tenants/${slug}`);
      expect(byId.status).toBe(200);
      expect(bySlug.status).toBe(200);
      expect(bySlug.body).toEqual(byId.body);
      // Either spelling names the same tenant: UUIDs and slugs are case-insensitive.
      const byUpperId = await get(`/v1/tenants/${created.id.toUpperCase()}`);
      const byUpperSlug = await get(`/v1/tenants/${slug.toUpperCase()}`);
      expect(byUpperId.status).toBe(200);
      expect(byUpperId.body).toEqual(byId.body);
      expect(byUpperSlug.body).toEqual(byId.body);
      expect(byId.body).toMatchObject({
        id: created.id,
        slug,
        plan: 'free',
        status: 'active',
        statusReason: null,
        templateVersion: TENANT_TEMPLATE_MIGRATIONS.length,
        domains: [{ hostname: `${slug}.platform.test`, kind: 'subdomain', status: 'active' }],
      });
      expect(byId.body.activatedAt).toEqual(expect.any(String));
      const steps = (byId.body as TenantView).provisioningSteps;
      expect(steps.map((step) => step.step)).toEqual(STEP_NAMES);
      for (const step of steps) {
        const setting = SKIPPED_STEP_SETTINGS[step.step];
        expect(step).toMatchObject(
          setting
            ? { status: 'skipped', attempts: 1, lastError: expect.stringContaining(setting) }
            : { status: 'succeeded', attempts: 1, lastError: null },
        );
      }
    });

    it.each([
      ['an unknown uuid', randomUUID()],
      ['an unknown slug', 'no-such-tenant-here'],
      ['an injection attempt', encodeURIComponent("x' OR '1'='1")],
      ['a path traversal', '..%2F..%2Fplatform'],
    ])('answers 404 tenant_not_found for %s', async (_label, idOrSlug) => {
      const response = await get(`/v1/tenants/${idOrSlug}`);
      expect(response.status).toBe(404);
      expect(response.body.error).toBe('tenant_not_found');
    });

    it('creates the tenant schema with template versions 1..3 and the seeded lookups', async () => {
      const tenant = await platform.createTenant(`schema-${suffix()}`);

      const namespace = await db.query('SELECT nspname FROM pg_namespace WHERE nspname = $1', [
        tenant.schema,
      ]);
      expect(namespace.rows).toHaveLength(1);
      const versions = await db.query<{ version: number }>(
        `SELECT version FROM "${tenant.schema}".template_migrations ORDER BY version`,
      );
      expect(versions.rows.map((row) => row.version)).toEqual(
        TENANT_TEMPLATE_MIGRATIONS.map((migration) => migration.version),
      );
      const countries = await db.query(
        `SELECT count(*)::int AS n FROM "${tenant.schema}".countries`,
      );
      expect(countries.rows[0].n).toBe(249);
      const currencies = await db.query(
        `SELECT count(*)::int AS n FROM "${tenant.schema}".currencies`,
      );
      expect(currencies.rows[0].n).toBe(179);
      const tables = await db.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
        [tenant.schema],
      );
      expect(tables.rows.map((row) => row.table_name)).toEqual(
        expect.arrayContaining([
          'countries',
          'currencies',
          'projects',
          'template_migrations',
          'user_invites',
          'users',
        ]),
      );
      // Registry tables never leak into a tenant schema.
      expect(tables.rows.map((row) => row.table_name)).not.toContain('tenants');
    });
  });

  describe('listing', () => {
    it('filters by status', async () => {
      const active = await platform.createTenant(`list-act-${suffix()}`);
      const suspended = await platform.createTenant(`list-sus-${suffix()}`);
      expect((await post(`/v1/tenants/${suspended.id}/suspend`)).status).toBe(200);

      const response = await get('/v1/tenants?status=suspended&limit=200');
      expect(response.status).toBe(200);
      const ids = idsOf(response.body);
      expect(ids).toContain(suspended.id);
      expect(ids).not.toContain(active.id);
      expect((response.body as Page).items.every((item) => item.status === 'suspended')).toBe(true);
      expect(response.body.total).toBe(response.body.items.length);

      const bogus = await get('/v1/tenants?status=bogus');
      expect(bogus.status).toBe(400);
      expect(bogus.body.error).toBe('validation_failed');
      expect(fieldsOf(bogus.body)).toContain('status');
    });

    it('searches slug, name and admin e-mail, case-insensitively', async () => {
      const token = suffix();
      const bySlug = (
        await createRaw(`srch-slug${token}`, { name: 'Plain name', adminEmail: 'a@plain.test' })
      ).body;
      const byName = (
        await createRaw(`srch-name-${suffix()}`, {
          name: `Name${token}Corp`,
          adminEmail: 'b@plain.test',
        })
      ).body;
      const byEmail = (
        await createRaw(`srch-mail-${suffix()}`, {
          name: 'Plain',
          adminEmail: `ops@mail${token}.test`,
        })
      ).body;

      const search = async (term: string) => {
        const response = await get(`/v1/tenants?search=${encodeURIComponent(term)}`);
        expect(response.status).toBe(200);
        return response.body as { items: { id: string }[]; total: number };
      };
      expect((await search(`SLUG${token.toUpperCase()}`)).items.map((i) => i.id)).toEqual([
        bySlug.id,
      ]);
      expect((await search(`name${token}corp`)).items.map((i) => i.id)).toEqual([byName.id]);
      expect((await search(`MAIL${token.toUpperCase()}.TEST`)).items.map((i) => i.id)).toEqual([
        byEmail.id,
      ]);
      const all = await search(token);
      expect(all.total).toBe(3);
      expect(all.items.map((i) => i.id).sort()).toEqual([bySlug.id, byName.id, byEmail.id].sort());
    });

    it('treats % and _ in the search term literally', async () => {
      const token = suffix();
      const percent = (await createRaw(`pct-a-${suffix()}`, { name: `${token} 100% off` })).body;
      await createRaw(`pct-b-${suffix()}`, { name: `${token} 1000 off` });
      const underscore = (await createRaw(`usc-a-${suffix()}`, { name: `${token} a_b` })).body;
      await createRaw(`usc-b-${suffix()}`, { name: `${token} axb` });

      const percentHits = await get(`/v1/tenants?search=${encodeURIComponent(`${token} 100%`)}`);
      expect(percentHits.status).toBe(200);
      expect(idsOf(percentHits.body)).toEqual([percent.id]);
      expect(percentHits.body.total).toBe(1);

      const underscoreHits = await get(`/v1/tenants?search=${encodeURIComponent(`${token} a_b`)}`);
      expect(idsOf(underscoreHits.body)).toEqual([underscore.id]);

      const onlyPercent = await get(`/v1/tenants?search=${encodeURIComponent('%')}`);
      expect(idsOf(onlyPercent.body)).toEqual([percent.id]);
      const backslash = await get(`/v1/tenants?search=${encodeURIComponent(`${token}\\`)}`);
      expect(backslash.status).toBe(200);
      expect(backslash.body.total).toBe(0);
    });

    it('paginates with limit and offset and reports the total', async () => {
      const token = suffix();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push((await createRaw(`page${token}-${i}`)).body.id);
      }
      const pages: string[][] = [];
      for (const offset of [0, 2, 4]) {
        const response = await get(`/v1/tenants?search=page${token}&limit=2&offset=${offset}`);
        expect(response.status).toBe(200);
        expect(response.body).toMatchObject({ total: 5, limit: 2, offset });
        pages.push(idsOf(response.body));
      }
      expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
      expect(new Set(pages.flat())).toEqual(new Set(ids));
      const beyond = await get(`/v1/tenants?search=page${token}&limit=2&offset=10`);
      expect(beyond.body).toMatchObject({ items: [], total: 5 });
      const defaults = await get(`/v1/tenants?search=page${token}`);
      expect(defaults.body).toMatchObject({ limit: 50, offset: 0, total: 5 });
    });

    it.each([
      ['limit=0', 'limit=0'],
      ['limit=201', 'limit=201'],
      ['limit=abc', 'limit=abc'],
      ['limit=2.5', 'limit=2.5'],
      ['offset=-1', 'offset=-1'],
      ['a 101-character search', `search=${'x'.repeat(101)}`],
    ])('refuses the query %s with 400', async (_label, query) => {
      const response = await get(`/v1/tenants?${query}`);
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('validation_failed');
      expect(response.body.details[0].field).toBe(query.split('=')[0]);
    });
  });

  describe('uniqueness and idempotency', () => {
    it('refuses a duplicate slug with 409 and keeps exactly one row', async () => {
      const slug = `dup-${suffix()}`;
      expect((await createRaw(slug)).status).toBe(202);
      const again = await createRaw(slug, { name: 'Someone else', adminEmail: 'other@else.test' });
      expect(again.status).toBe(409);
      expect(again.body.error).toBe('slug_taken');
      expect(await countTenants(slug)).toBe(1);
    });

    it('lets exactly one of several concurrent creations of one slug win', async () => {
      const slug = `race-${suffix()}`;
      const responses = await Promise.all(
        Array.from({ length: 5 }, (_, i) => createRaw(slug, { name: `Racer ${i}` })),
      );
      const statuses = responses.map((response) => response.status).sort();
      expect(statuses).toEqual([202, 409, 409, 409, 409]);
      for (const lost of responses.filter((response) => response.status === 409)) {
        expect(lost.body.error).toBe('slug_taken');
      }
      expect(await countTenants(slug)).toBe(1);
    });

    it('lets exactly one of several concurrent claims of one custom domain win', async () => {
      const domain = `race.${suffix()}.example.org`;
      const slugs = Array.from({ length: 4 }, () => `race-dom-${suffix()}`);
      const responses = await Promise.all(
        slugs.map((slug) => createRaw(slug, { customDomain: domain })),
      );
      expect(responses.map((response) => response.status).sort()).toEqual([202, 409, 409, 409]);
      expect(
        responses.filter((r) => r.status === 409).every((r) => r.body.error === 'hostname_taken'),
      ).toBe(true);
      const owners = await db.query(
        'SELECT count(*)::int AS n FROM platform.tenant_domains WHERE hostname = $1',
        [domain],
      );
      expect(owners.rows[0].n).toBe(1);
      // The losers left no tenant behind.
      const rows = await db.query(
        'SELECT count(*)::int AS n FROM platform.tenants WHERE slug = ANY($1)',
        [slugs],
      );
      expect(rows.rows[0].n).toBe(1);
    });

    it('replays the same Idempotency-Key and body to the same tenant', async () => {
      const slug = `idem-${suffix()}`;
      const key = `key-${randomUUID()}`;
      const body = tenantBody(slug, { plan: 'starter' });
      const first = await post('/v1/tenants', body).set('Idempotency-Key', key);
      expect(first.status).toBe(202);
      // Same content, other property order: still the same request.
      const reordered = { plan: 'starter', adminEmail: body.adminEmail, name: body.name, slug };
      const second = await post('/v1/tenants', reordered).set('Idempotency-Key', key);
      expect(second.status).toBe(202);
      expect(second.body.id).toBe(first.body.id);
      expect(second.body.schema).toBe(first.body.schema);

      expect(await countTenants(slug)).toBe(1);
      const keys = await db.query(
        'SELECT tenant_id FROM platform.idempotency_keys WHERE key = $1',
        [key],
      );
      expect(keys.rows).toEqual([{ tenant_id: first.body.id }]);
      await platform.waitForStatus(first.body.id, 'active');
      const schemas = await db.query(
        `SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1`,
        [first.body.schema],
      );
      expect(schemas.rows[0].n).toBe(1);
    });

    it('serialises concurrent requests with one Idempotency-Key into one tenant', async () => {
      const slug = `idem-par-${suffix()}`;
      const key = `par-${randomUUID()}`;
      const responses = await Promise.all(
        Array.from({ length: 5 }, () =>
          post('/v1/tenants', tenantBody(slug)).set('Idempotency-Key', key),
        ),
      );
      expect(responses.map((response) => response.status)).toEqual([202, 202, 202, 202, 202]);
      expect(new Set(responses.map((response) => (response.body as TenantView).id)).size).toBe(1);
      expect(await countTenants(slug)).toBe(1);
    });

    it('refuses the same Idempotency-Key with another body (422) and creates nothing', async () => {
      const slug = `idem-a-${suffix()}`;
      const otherSlug = `idem-b-${suffix()}`;
      const key = `reuse-${randomUUID()}`;
      expect((await post('/v1/tenants', tenantBody(slug)).set('Idempotency-Key', key)).status).toBe(
        202,
      );

      const otherSlugResponse = await post('/v1/tenants', tenantBody(otherSlug)).set(
        'Idempotency-Key',
        key,
      );
      expect(otherSlugResponse.status).toBe(422);
      expect(otherSlugResponse.body.error).toBe('idempotency_key_reused');
      const otherPlan = await post('/v1/tenants', tenantBody(slug, { plan: 'pro' })).set(
        'Idempotency-Key',
        key,
      );
      expect(otherPlan.status).toBe(422);
      expect(otherPlan.body.error).toBe('idempotency_key_reused');
      expect(await countTenants(otherSlug)).toBe(0);
      expect(await countTenants(slug)).toBe(1);
    });
  });

  describe('lifecycle', () => {
    it('suspends, resumes and deletes, refusing forbidden moves with 409', async () => {
      const slug = `life-${suffix()}`;
      const tenant = await platform.createTenant(slug);
      const expectRefused = async (path: string, method: 'post' | 'delete' = 'post') => {
        const response = method === 'post' ? await post(path) : await del(path);
        expect(response.status).toBe(409);
        expect(response.body.error).toBe('invalid_transition');
      };

      await expectRefused(`/v1/tenants/${tenant.id}/resume`); // resume an active tenant
      await expectRefused(`/v1/tenants/${tenant.id}/retry`); // retry an active tenant

      const suspended = await post(`/v1/tenants/${tenant.id}/suspend`);
      expect(suspended.status).toBe(200);
      expect(suspended.body).toMatchObject({ id: tenant.id, status: 'suspended' });
      expect(suspended.body.suspendedAt).toEqual(expect.any(String));
      await expectRefused(`/v1/tenants/${tenant.id}/suspend`);

      const resumed = await post(`/v1/tenants/${tenant.id}/resume`);
      expect(resumed.status).toBe(200);
      expect(resumed.body.status).toBe('active');

      const deleted = await del(`/v1/tenants/${tenant.id}`);
      expect(deleted.status).toBe(200);
      expect(deleted.body).toMatchObject({ id: tenant.id, status: 'deleted', domains: [] });
      expect(deleted.body.deletedAt).toEqual(expect.any(String));

      await expectRefused(`/v1/tenants/${tenant.id}/suspend`); // suspend a deleted tenant
      await expectRefused(`/v1/tenants/${tenant.id}/resume`);
      await expectRefused(`/v1/tenants/${tenant.id}`, 'delete');
      expect((await get(`/v1/tenants/${tenant.id}`)).body.status).toBe('deleted');
    });

    it('answers 404 for transitions of an unknown tenant', async () => {
      const id = randomUUID();
      for (const response of [
        await post(`/v1/tenants/${id}/suspend`),
        await post(`/v1/tenants/${id}/resume`),
        await post(`/v1/tenants/${id}/retry`),
        await del(`/v1/tenants/${id}`),
      ]) {
        expect(response.status).toBe(404);
        expect(response.body.error).toBe('tenant_not_found');
      }
    });

    it('stops serving a suspended tenant on the data plane and serves it again after resume', async () => {
      const slug = `serve-${suffix()}`;
      const other = await platform.createTenant(`serve-other-${suffix()}`);
      const tenant = await platform.createTenant(slug);
      const profile = (host: string) =>
        request(platform.dataPlaneUrl).get('/api/tenant').set('Host', host);
      expect((await profile(platform.hostOf(slug))).status).toBe(200);

      await post(`/v1/tenants/${tenant.id}/suspend`).expect(200);
      await eventually(async () => {
        const response = await profile(platform.hostOf(slug));
        expect(response.status).toBe(403);
        expect(response.body.error).toBe('tenant_suspended');
      });
      // The other tenant is untouched.
      expect((await profile(platform.hostOf(other.slug))).status).toBe(200);

      await post(`/v1/tenants/${tenant.id}/resume`).expect(200);
      await eventually(async () => expect((await profile(platform.hostOf(slug))).status).toBe(200));

      await del(`/v1/tenants/${tenant.id}`).expect(200);
      await eventually(async () => {
        const response = await profile(platform.hostOf(slug));
        expect(response.status).toBe(404);
        expect(response.body.error).toBe('unknown_tenant');
      });
    });

    it('frees the hostnames of a deleted tenant but keeps its slug taken', async () => {
      const slug = `free-${suffix()}`;
      const domain = `app.${suffix()}.example.com`;
      const first = await platform.createTenant(slug, { customDomain: domain });
      const firstView = await get(`/v1/tenants/${first.id}`);
      expect(firstView.body.domains).toEqual(
        expect.arrayContaining([
          { hostname: domain, kind: 'custom', status: 'pending_verification' },
        ]),
      );

      const clash = await createRaw(`free-clash-${suffix()}`, { customDomain: domain });
      expect(clash.status).toBe(409);
      expect(clash.body.error).toBe('hostname_taken');

      await del(`/v1/tenants/${first.id}`).expect(200);
      const held = await db.query(
        'SELECT hostname FROM platform.tenant_domains WHERE tenant_id = $1',
        [first.id],
      );
      expect(held.rows).toEqual([]);

      const claimSlug = `free-new-${suffix()}`;
      const claim = await createRaw(claimSlug, { customDomain: domain });
      expect(claim.status).toBe(202);
      expect(claim.body.domains).toEqual(
        expect.arrayContaining([
          { hostname: domain, kind: 'custom', status: 'pending_verification' },
        ]),
      );

      const reuseSlug = await createRaw(slug);
      expect(reuseSlug.status).toBe(409);
      expect(reuseSlug.body.error).toBe('slug_taken');
      expect(await countTenants(slug)).toBe(1);
    });

    it('records create, suspend, resume and delete in the audit log as the bootstrap admin', async () => {
      const tenant = await platform.createTenant(`audit-${suffix()}`);
      await post(`/v1/tenants/${tenant.id}/suspend`).expect(200);
      await post(`/v1/tenants/${tenant.id}/resume`).expect(200);
      await del(`/v1/tenants/${tenant.id}`).expect(200);
      await post(`/v1/tenants/${tenant.id}/resume`).expect(409); // refused: not audited

      const rows = await db.query<{ actor: string; action: string; details: unknown }>(
        'SELECT actor, action, details FROM platform.audit_log WHERE tenant_id = $1 ORDER BY id',
        [tenant.id],
      );
      expect(rows.rows.map((row) => row.action)).toEqual([
        'tenant.create',
        'tenant.suspend',
        'tenant.resume',
        'tenant.delete',
      ]);
      expect(rows.rows.every((row) => row.actor === 'bootstrap-admin')).toBe(true);
      expect(rows.rows[1].details).toEqual({ from: 'active', to: 'suspended' });
      expect(rows.rows[3].details).toEqual({ from: 'active', to: 'deleted' });
    });
  });

  describe('tenant users', () => {
    it('creates a user with a password (no invite) who can sign in on its own tenant only', async () => {
      const mine = await platform.createTenant(`usr-a-${suffix()}`);
      const other = await platform.createTenant(`usr-b-${suffix()}`);
      const password = `pw-${randomBytes(8).toString('hex')}`;
      const created = await post(`/v1/tenants/${mine.slug}/users`, {
        email: 'Jane@Example.TEST',
        role: 'admin',
        password,
      });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id: expect.stringMatching(UUID),
        email: 'jane@example.test',
        role: 'admin',
      });

      const inMine = await usersBesidesAdmin(mine);
      expect(inMine).toHaveLength(1);
      expect(inMine[0]).toMatchObject({ email: 'jane@example.test', role: 'admin' });
      expect(inMine[0].password_hash).toEqual(expect.any(String));
      expect(inMine[0].password_hash).not.toContain(password);
      const janesInvites = await db.query(
        `SELECT count(*)::int AS n FROM "${mine.schema}".user_invites i
           JOIN "${mine.schema}".users u ON u.id = i.user_id WHERE u.email = 'jane@example.test'`,
      );
      expect(janesInvites.rows[0].n).toBe(0);
      await expectOnboardedAdmin(mine);
      expect(await usersBesidesAdmin(other)).toEqual([]);
      await expectOnboardedAdmin(other);

      const login = (slug: string) =>
        request(platform.dataPlaneUrl)
          .post('/api/auth/login')
          .set('Host', platform.hostOf(slug))
          .send({ email: 'jane@example.test', password });
      expect((await login(mine.slug)).status).toBe(200);
      expect((await login(other.slug)).status).toBe(401);
    });

    it('creates a user without a password with a one-time invite link', async () => {
      const tenant = await platform.createTenant(`inv-${suffix()}`);
      const before = Date.now();
      const created = await post(`/v1/tenants/${tenant.id}/users`, {
        email: 'new@example.test',
        role: 'viewer',
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ email: 'new@example.test', role: 'viewer' });
      const { url, expiresAt } = created.body.invite;
      expect(url).toContain('/welcome?token=');
      expect(url).toContain(`${tenant.slug}.platform.test`);
      expect(new Date(expiresAt).getTime()).toBeGreaterThan(before + 3_600_000);

      const token = new URL(url).searchParams.get('token') as string;
      expect(token.length).toBeGreaterThanOrEqual(32);
      const invites = await db.query(
        `SELECT i.token_hash FROM "${tenant.schema}".user_invites i
           JOIN "${tenant.schema}".users u ON u.id = i.user_id WHERE u.email = 'new@example.test'`,
      );
      expect(invites.rows).toHaveLength(1);
      expect(invites.rows[0].token_hash).not.toBe(token); // stored hashed
      expect(await usersBesidesAdmin(tenant)).toEqual([
        { email: 'new@example.test', role: 'viewer', password_hash: null },
      ]);
      // The admin's own invite is untouched by another user's.
      await expectOnboardedAdmin(tenant);
    });

    it('refuses a duplicate e-mail (any case) with 409 user_exists', async () => {
      const tenant = await platform.createTenant(`dupu-${suffix()}`);
      const body = { email: 'twice@example.test', role: 'member', password: 'a-long-password-1' };
      expect((await post(`/v1/tenants/${tenant.id}/users`, body)).status).toBe(201);
      const again = await post(`/v1/tenants/${tenant.id}/users`, {
        ...body,
        email: 'TWICE@example.test',
      });
      expect(again.status).toBe(409);
      expect(again.body.error).toBe('user_exists');
      expect((await usersBesidesAdmin(tenant)).map((user) => user.email)).toEqual([
        'twice@example.test',
      ]);
      await expectOnboardedAdmin(tenant);
    });

    it('lets ops add users to a suspended tenant', async () => {
      // Observed design choice (tenant-users.service.ts): "not active" means not yet, or no
      // longer, serving (provisioning, failed, deleted); a suspended tenant may be prepared.
      const tenant = await platform.createTenant(`usus-${suffix()}`);
      await post(`/v1/tenants/${tenant.id}/suspend`).expect(200);
      const created = await post(`/v1/tenants/${tenant.id}/users`, {
        email: 'prep@example.test',
        role: 'member',
      });
      expect(created.status).toBe(201);
      expect(created.body.invite.url).toContain('/welcome?token=');
    });

    it('validates the user body and refuses users of unknown or deleted tenants', async () => {
      const tenant = await platform.createTenant(`uval-${suffix()}`);
      const cases: [object, string][] = [
        [{ email: 'not-an-email', role: 'member' }, 'email'],
        [{ email: 'x@example.test', role: 'owner' }, 'role'],
        [{ email: 'x@example.test', role: 'member', password: 'short' }, 'password'],
        [{ email: 'x@example.test', role: 'member', password: ' '.repeat(12) }, 'password'],
        [{ email: 'x@example.test', role: 'member', passwordHash: 'x' }, 'passwordHash'],
      ];
      for (const [body, field] of cases) {
        const response = await post(`/v1/tenants/${tenant.id}/users`, body);
        expect(response.status).toBe(400);
        expect(fieldsOf(response.body)).toContain(field);
      }
      const unknown = await post(`/v1/tenants/${randomUUID()}/users`, {
        email: 'x@example.test',
        role: 'member',
      });
      expect(unknown.status).toBe(404);

      await del(`/v1/tenants/${tenant.id}`).expect(200);
      const deleted = await post(`/v1/tenants/${tenant.id}/users`, {
        email: 'x@example.test',
        role: 'member',
      });
      expect(deleted.status).toBe(409);
      expect(deleted.body.error).toBe('tenant_not_active');
    });
  });

  describe('authentication', () => {
    // `:id` is an unknown tenant: the guard must answer 401 before any lookup could say 404.
    const routes: [string, string][] = [
      ['GET', '/v1/tenants'],
      ['POST', '/v1/tenants'],
      ['GET', '/v1/tenants/:id'],
      ['POST', '/v1/tenants/:id/suspend'],
      ['POST', '/v1/tenants/:id/resume'],
      ['POST', '/v1/tenants/:id/retry'],
      ['DELETE', '/v1/tenants/:id'],
      ['POST', '/v1/tenants/:id/users'],
      ['GET', '/metrics'],
    ];
    const credentials: [string, (token: string) => string | undefined][] = [
      ['no Authorization header', () => undefined],
      ['a wrong bearer token', () => `Bearer ${randomBytes(24).toString('hex')}`],
      ['the token with an extra character', (token) => `Bearer ${token}x`],
      ['a prefix of the token', (token) => `Bearer ${token.slice(0, -1)}`],
      ['the token without the Bearer scheme', (token) => token],
      [
        'the token as Basic credentials',
        (token) => `Basic ${Buffer.from(`admin:${token}`).toString('base64')}`,
      ],
      ['an empty bearer', () => 'Bearer '],
    ];
    const cases = routes.flatMap(([method, path]) =>
      credentials.map(([label, header]) => [method, path, label, header] as const),
    );

    it.each(cases)('%s %s with %s → 401', async (method, path, _label, header) => {
      const url = path.replace(':id', randomUUID());
      let req = platform.api()[method.toLowerCase() as 'get' | 'post' | 'delete'](url);
      const value = header(platform.adminToken);
      if (value !== undefined) req = req.set('Authorization', value);
      const response =
        method === 'GET' ? await req : await req.send(tenantBody(`auth-${suffix()}`));
      expect(response.status).toBe(401);
      expect(response.body.error).toBe('unauthenticated');
    });

    it('changes nothing for unauthenticated writes', async () => {
      const tenant = await platform.createTenant(`auth-keep-${suffix()}`);
      const slug = `auth-none-${suffix()}`;
      const wrong = `Bearer ${randomBytes(24).toString('hex')}`;
      await platform
        .api()
        .post('/v1/tenants')
        .set('Authorization', wrong)
        .send(tenantBody(slug))
        .expect(401);
      await platform
        .api()
        .post(`/v1/tenants/${tenant.id}/suspend`)
        .set('Authorization', wrong)
        .expect(401);
      await platform.api().delete(`/v1/tenants/${tenant.id}`).expect(401);
      await platform
        .api()
        .post(`/v1/tenants/${tenant.id}/users`)
        .send({ email: 'sneaky@example.test', role: 'admin', password: 'a-long-password-1' })
        .expect(401);
      expect(await countTenants(slug)).toBe(0);
      expect((await get(`/v1/tenants/${tenant.id}`)).body.status).toBe('active');
      expect(await usersBesidesAdmin(tenant)).toEqual([]);
      await expectOnboardedAdmin(tenant);
    });

    it.each(['/health/live', '/health/ready'])('serves %s without a token', async (path) => {
      const response = await platform.api().get(path);
      expect(response.status).toBe(200);
      expect(response.body.status).toBe('ok');
    });

    it('serves Prometheus metrics with the token', async () => {
      await get('/v1/tenants?limit=1').expect(200);
      const response = await get('/metrics');
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/plain/);
      expect(response.text).toContain('http_request_duration_seconds');
      // Routes are labelled by template, never by raw path (unbounded label values).
      expect(response.text).toContain('route="/v1/tenants"');
      expect(response.text).not.toMatch(/route="\/v1\/tenants\/[0-9a-f]{8}-/);
    });

    it('serves the OpenAPI document at /docs-json without a token', async () => {
      // Observed behaviour: Swagger's routes are mounted on Express directly, outside the
      // guard, so the document is public (its description says "every route but /health
      // needs the operator token"). It describes the API only; no tenant data is exposed.
      const anonymous = await platform.api().get('/docs-json');
      expect(anonymous.status).toBe(200);
      expect(anonymous.body.paths).toHaveProperty('/v1/tenants');
      expect(anonymous.body.paths).toHaveProperty('/v1/tenants/{idOrSlug}');
      expect(JSON.stringify(anonymous.body)).not.toContain(platform.adminToken);
      const authed = await get('/docs-json');
      expect(authed.status).toBe(200);
    });
  });
});

describe('control plane: tenants API without a worker', () => {
  let platform: RunningPlatform;
  const bearer = () => `Bearer ${platform.adminToken}`;

  beforeAll(async () => {
    platform = await startPlatform({ withoutWorker: true });
  });

  afterAll(async () => {
    await platform?.stop();
  });

  const create = async (slug: string) => {
    const response = await platform
      .api()
      .post('/v1/tenants')
      .set('Authorization', bearer())
      .send(tenantBody(slug));
    expect(response.status).toBe(202);
    return response.body as { id: string; status: string };
  };

  it('refuses users on a tenant still provisioning with 409 tenant_not_active', async () => {
    const tenant = await create(`prov-usr-${suffix()}`);
    expect(tenant.status).toBe('provisioning');
    const response = await platform
      .api()
      .post(`/v1/tenants/${tenant.id}/users`)
      .set('Authorization', bearer())
      .send({ email: 'early@example.test', role: 'admin', password: 'a-long-password-1' });
    expect(response.status).toBe(409);
    expect(response.body.error).toBe('tenant_not_active');
  });

  it('answers 503 with Retry-After on the data plane while provisioning', async () => {
    const slug = `prov-dp-${suffix()}`;
    await create(slug);
    const response = await request(platform.dataPlaneUrl)
      .get('/api/tenant')
      .set('Host', platform.hostOf(slug));
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toMatch(/^\d+$/);
  });

  it('allows delete but not suspend, resume or retry while provisioning', async () => {
    const tenant = await create(`prov-life-${suffix()}`);
    for (const action of ['suspend', 'resume', 'retry']) {
      const response = await platform
        .api()
        .post(`/v1/tenants/${tenant.id}/${action}`)
        .set('Authorization', bearer());
      expect(response.status).toBe(409);
      expect(response.body.error).toBe('invalid_transition');
    }
    const deleted = await platform
      .api()
      .delete(`/v1/tenants/${tenant.id}`)
      .set('Authorization', bearer());
    expect(deleted.status).toBe(200);
    expect(deleted.body.status).toBe('deleted');
  });
});
