/**
 * The audit trail against the real platform: changes made over the API are recorded with who,
 * from where, and the state before and after; PostgreSQL itself refuses to change or remove an
 * entry (even for a superuser that owns the table); concurrent appends chain without a fork;
 * and `audit:verify` names an entry someone changed or removed behind the triggers' back.
 */
import { Client } from 'pg';
import { freePort } from '@platform/testing';
import {
  startPlatform,
  type RunningPlatform,
  type TenantSummary,
} from '../../../test/platform-harness';
import { AuditChainVerifier } from '../src/audit/audit-chain-verifier.service';
import { runCli, sleep } from './fleet-helpers';

const USER_AGENT = 'audit-e2e/1.0';
const CONCURRENT_REQUESTS = 50;

interface Entry {
  id: string;
  createdAt: string;
  actor: string;
  operatorId: string | null;
  action: string;
  tenantId: string | null;
  source: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

interface Page {
  items: Entry[];
  total: number;
  limit: number;
  offset: number;
}

/** A raw row, every column, as a superuser reads it. */
type Row = Record<string, unknown>;

const suffix = () => Math.random().toString(36).slice(2, 8);

describe('audit trail', () => {
  let platform: RunningPlatform;
  let db: Client;
  let verifier: AuditChainVerifier;
  let alpha: TenantSummary;
  let beta: TenantSummary;

  const call = (method: 'get' | 'post' | 'delete', path: string) =>
    platform
      .api()
      [method](path)
      .set('Authorization', `Bearer ${platform.adminToken}`)
      .set('User-Agent', USER_AGENT);
  const trail = async (query: string): Promise<Page> => {
    const response = await call('get', `/v1/audit?${query}`).expect(200);
    return response.body as Page;
  };
  const tenantTrail = async (idOrSlug: string, query = ''): Promise<Page> => {
    const response = await call('get', `/v1/tenants/${idOrSlug}/audit?${query}`).expect(200);
    return response.body as Page;
  };
  const entryCount = async () =>
    (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM platform.audit_log')).rows[0].n;
  /** Runs statements with triggers off, as a superuser can: what the chain must still reveal. */
  const behindTriggers = async (...statements: [string, unknown[]][]) => {
    await db.query('BEGIN');
    try {
      await db.query('SET LOCAL session_replication_role = replica');
      for (const [sql, parameters] of statements) await db.query(sql, parameters);
      await db.query('COMMIT');
    } catch (error) {
      await db.query('ROLLBACK');
      throw error;
    }
  };
  const rowOf = async (id: string): Promise<Row> =>
    (await db.query<Row>('SELECT * FROM platform.audit_log WHERE id = $1', [id])).rows[0];
  /** The entry as exact JSON text (jsonb numbers and all), to put it back as it was. */
  const snapshot = async (id: string): Promise<string> =>
    (
      await db.query<{ json: string }>(
        'SELECT row_to_json(e)::text AS json FROM platform.audit_log e WHERE id = $1',
        [id],
      )
    ).rows[0].json;
  const restore = (json: string) =>
    behindTriggers(
      [`DELETE FROM platform.audit_log WHERE id = ($1::json ->> 'id')::bigint`, [json]],
      [
        `INSERT INTO platform.audit_log
         SELECT * FROM json_populate_record(NULL::platform.audit_log, $1::json)`,
        [json],
      ],
    );

  beforeAll(async () => {
    // Custom-domain verification asks a closed local port, so no job waits on real DNS.
    const closedDnsPort = await freePort();
    platform = await startPlatform({
      controlPlaneEnv: {
        CUSTOM_DOMAIN_DNS_SERVERS: `127.0.0.1:${closedDnsPort}`,
        CUSTOM_DOMAINS_PER_TENANT: '10',
      },
    });
    db = new Client({ connectionString: platform.database.url });
    await db.connect();
    verifier = platform.controlPlane.get(AuditChainVerifier);
    // Enterprise: the concurrency test below adds 25 users to each, past smaller plans' quota.
    alpha = await platform.createTenant(`audit-a-${suffix()}`, { plan: 'enterprise' });
    beta = await platform.createTenant(`audit-b-${suffix()}`, { plan: 'enterprise' });
  });

  afterAll(async () => {
    await db?.end();
    await platform?.stop();
  });

  describe('what an entry records', () => {
    it('records a suspension with its operator, address, user agent, request id, before and after', async () => {
      const requestId = `audit-e2e-${suffix()}-req`;
      await call('post', `/v1/tenants/${alpha.id}/suspend`)
        .set('X-Request-Id', requestId)
        .expect(200);
      await call('post', `/v1/tenants/${alpha.id}/resume`).expect(200);

      const [resume, suspend] = (await tenantTrail(alpha.slug, 'limit=2')).items;
      expect(suspend).toMatchObject({
        action: 'tenant.suspend',
        actor: 'bootstrap-admin',
        operatorId: 'bootstrap-admin',
        tenantId: alpha.id,
        source: 'api',
        ip: '127.0.0.1',
        userAgent: USER_AGENT,
        requestId,
        before: { status: 'active' },
        after: { status: 'suspended' },
        details: { from: 'active', to: 'suspended' },
      });
      expect(resume).toMatchObject({
        action: 'tenant.resume',
        before: { status: 'suspended' },
        after: { status: 'active' },
      });
      expect(resume.requestId).not.toBe(requestId);
      // Newest first, and each chained to the entry written just before it.
      expect(BigInt(resume.id)).toBeGreaterThan(BigInt(suspend.id));
      expect(resume.prevHash).toBe(suspend.hash);
      expect(Date.parse(resume.createdAt)).toBeGreaterThanOrEqual(Date.parse(suspend.createdAt));
    });

    it('records a tenant creation with the tenant as it was created', async () => {
      const [created] = (await tenantTrail(beta.id, 'action=tenant.create')).items;
      expect(created).toMatchObject({
        actor: 'bootstrap-admin',
        source: 'api',
        before: null,
        after: { slug: beta.slug, plan: 'enterprise', status: 'provisioning' },
      });
    });

    it('records domain changes with the domain before and after', async () => {
      const hostname = `shop-${suffix()}.example.com`;
      await call('post', `/v1/tenants/${alpha.id}/domains`).send({ hostname }).expect(201);
      await call('delete', `/v1/tenants/${alpha.id}/domains/${hostname}`).expect(204);

      const { items } = await tenantTrail(alpha.id, 'action=tenant.domain.*');
      const [removed, added] = items;
      expect(added).toMatchObject({
        action: 'tenant.domain.add',
        before: null,
        after: { hostname, kind: 'custom', status: 'pending_verification' },
        ip: '127.0.0.1',
      });
      expect(removed).toMatchObject({
        action: 'tenant.domain.remove',
        before: { hostname, kind: 'custom' },
        after: null,
      });
    });

    it('refuses what it cannot record (a 409 adds no entry) and keeps tenants apart', async () => {
      const before = await entryCount();
      await call('post', `/v1/tenants/${beta.id}/resume`).expect(409);
      expect(await entryCount()).toBe(before);

      const betaEntries = (await tenantTrail(beta.slug, 'limit=200')).items;
      expect(betaEntries.length).toBeGreaterThan(0);
      expect(betaEntries.every((entry) => entry.tenantId === beta.id)).toBe(true);
      const alphaEntries = (await tenantTrail(alpha.slug, 'limit=200')).items;
      expect(alphaEntries.some((entry) => entry.action === 'tenant.suspend')).toBe(true);
      expect(betaEntries.some((entry) => entry.action === 'tenant.suspend')).toBe(false);
    });
  });

  describe('append-only, in the database', () => {
    let victim: Row;

    beforeAll(async () => {
      victim = await rowOf((await tenantTrail(alpha.id, 'action=tenant.suspend')).items[0].id);
    });

    it('runs as a superuser that owns the table (the strongest role the triggers face)', async () => {
      const { rows } = await db.query<{ rolsuper: boolean; owner: string; me: string }>(
        `SELECT r.rolsuper, t.tableowner AS owner, current_user AS me
           FROM pg_roles r, pg_tables t
          WHERE r.rolname = current_user AND t.schemaname = 'platform' AND t.tablename = 'audit_log'`,
      );
      expect(rows[0]).toEqual({ rolsuper: true, owner: rows[0].me, me: rows[0].me });
    });

    it.each([
      [
        'UPDATE',
        `UPDATE platform.audit_log SET actor = 'someone-else' WHERE id = $1`,
        /UPDATE is not allowed/,
      ],
      [
        'an UPDATE that matches no row',
        `UPDATE platform.audit_log SET actor = 'x' WHERE id = $1 AND false`,
        /UPDATE is not allowed/,
      ],
      ['DELETE', 'DELETE FROM platform.audit_log WHERE id = $1', /DELETE is not allowed/],
    ])('refuses %s', async (_name, sql, message) => {
      await expect(db.query(sql, [victim.id])).rejects.toThrow(message);
      expect(await rowOf(victim.id as string)).toEqual(victim);
    });

    it('refuses TRUNCATE, with or without CASCADE', async () => {
      const count = await entryCount();
      await expect(db.query('TRUNCATE platform.audit_log')).rejects.toThrow(
        /audit_log is append-only: TRUNCATE is not allowed/,
      );
      await expect(db.query('TRUNCATE platform.audit_log CASCADE')).rejects.toThrow(
        /TRUNCATE is not allowed/,
      );
      expect(await entryCount()).toBe(count);
    });

    it('keeps the chain head: no delete, no move backwards', async () => {
      await expect(db.query('DELETE FROM platform.audit_chain_head')).rejects.toThrow(
        /DELETE is not allowed/,
      );
      await expect(
        db.query('UPDATE platform.audit_chain_head SET last_id = last_id - 1'),
      ).rejects.toThrow(/only moves forward/);
    });

    it('sets id, time and hashes itself: an insert cannot pick its place in the chain', async () => {
      await db.query(
        `INSERT INTO platform.audit_log (id, actor, action, details, created_at, prev_hash, hash)
         VALUES (1, 'forger', 'test.forged', '{}', '2000-01-01', $1, $1)`,
        ['f'.repeat(64)],
      );
      const { rows } = await db.query<Row>(
        `SELECT id::text, created_at, prev_hash, hash FROM platform.audit_log
          WHERE action = 'test.forged'`,
      );
      const [head] = (await db.query<Row>('SELECT * FROM platform.audit_chain_head')).rows;
      expect(rows).toHaveLength(1);
      expect(rows[0].id).not.toBe('1');
      expect((rows[0].created_at as Date).getFullYear()).toBeGreaterThan(2000);
      expect(rows[0].prev_hash).not.toBe('f'.repeat(64));
      expect(head).toMatchObject({ last_id: rows[0].id, last_hash: rows[0].hash });
      expect(await verifier.verify()).toMatchObject({ intact: true });
    });
  });

  describe('concurrent appends', () => {
    it('makes a second transaction wait for the first, then chains it to the first', async () => {
      const other = new Client({ connectionString: platform.database.url });
      await other.connect();
      try {
        await db.query('BEGIN');
        const [first] = (
          await db.query<{ id: string; hash: string }>(
            `INSERT INTO platform.audit_log (actor, action, details)
             VALUES ('test', 'test.first', '{}') RETURNING id::text, hash`,
          )
        ).rows;
        const [{ pid }] = (await other.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))
          .rows;
        await other.query('BEGIN');
        const second = other.query<{ id: string; prev_hash: string }>(
          `INSERT INTO platform.audit_log (actor, action, details)
           VALUES ('test', 'test.second', '{}') RETURNING id::text, prev_hash`,
        );
        // The second append blocks on the chain lock while the first transaction is open.
        for (let waited = 0; ; waited += 20) {
          const { rows } = await db.query<{ wait_event_type: string | null }>(
            'SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1',
            [pid],
          );
          if (rows[0]?.wait_event_type === 'Lock') break;
          if (waited > 5_000) throw new Error('the second append never waited for the first');
          await sleep(20);
        }
        await db.query('COMMIT');
        const [row] = (await second).rows;
        await other.query('COMMIT');
        expect(row.prev_hash).toBe(first.hash);
        expect(BigInt(row.id)).toBeGreaterThan(BigInt(first.id));
      } finally {
        await other.end();
      }
    });

    it(`chains ${CONCURRENT_REQUESTS} concurrent audited requests without a fork`, async () => {
      const before = await entryCount();
      const responses = await Promise.all(
        Array.from({ length: CONCURRENT_REQUESTS }, (_, i) =>
          call('post', `/v1/tenants/${i % 2 === 0 ? alpha.id : beta.id}/users`).send({
            email: `user-${i}-${suffix()}@example.com`,
            role: 'member',
          }),
        ),
      );
      expect(responses.map((response) => response.status)).toEqual(
        Array(CONCURRENT_REQUESTS).fill(201),
      );
      expect(await entryCount()).toBe(before + CONCURRENT_REQUESTS);

      const forks = await db.query(
        'SELECT prev_hash FROM platform.audit_log GROUP BY prev_hash HAVING count(*) > 1',
      );
      expect(forks.rows).toEqual([]);
      const entries = await entryCount();
      expect(await verifier.verify()).toEqual({ intact: true, entries });
      // Small batches: the walk carries the chain across its round trips.
      expect(await verifier.verify(7)).toEqual({ intact: true, entries });

      const users = await trail(`action=tenant.user.create&tenant=${alpha.slug}&limit=200`);
      expect(users.total).toBe(CONCURRENT_REQUESTS / 2);
      expect(users.items[0]).toMatchObject({
        before: null,
        after: { role: 'member', invited: true },
        source: 'api',
      });
    });
  });

  describe('audit:verify', () => {
    const cliEnv = () => ({ ...process.env, ...platform.controlPlaneEnv, LOG_LEVEL: 'warn' });

    it('proves an untouched chain (exit 0) and names an entry changed behind the triggers (exit 1)', async () => {
      const intact = await runCli(['audit:verify'], cliEnv());
      expect(intact).toMatchObject({ code: 0 });
      expect(intact.stdout).toContain(`audit chain intact: ${await entryCount()} entries`);

      const [target] = (await tenantTrail(alpha.id, 'action=tenant.suspend')).items;
      const original = await snapshot(target.id);
      await behindTriggers([
        `UPDATE platform.audit_log SET details = details || '{"to": "active"}' WHERE id = $1`,
        [target.id],
      ]);
      try {
        const broken = await runCli(['audit:verify'], cliEnv());
        expect(broken.code).toBe(1);
        expect(broken.stderr).toContain(`audit chain broken at entry ${target.id}:`);
        expect(broken.stderr).toMatch(/changed after it was written/);
      } finally {
        await restore(original);
      }
      // Putting the exact value back makes it whole again: the check is exact, not fuzzy.
      expect(await verifier.verify()).toMatchObject({ intact: true });
    });

    it('names the next entry when the changed one was given a fresh, valid-looking hash', async () => {
      const [target] = (await tenantTrail(alpha.id, 'action=tenant.resume')).items;
      const original = await snapshot(target.id);
      // The forger knows the algorithm: rewrites the actor, then gives the entry a hash that
      // matches its new fields.
      await behindTriggers(
        [`UPDATE platform.audit_log SET actor = 'someone-else' WHERE id = $1`, [target.id]],
        [
          'UPDATE platform.audit_log AS e SET hash = platform.audit_entry_hash(e) WHERE id = $1',
          [target.id],
        ],
      );
      const next = (
        await db.query<{ id: string }>(
          'SELECT id FROM platform.audit_log WHERE id > $1 ORDER BY id LIMIT 1',
          [target.id],
        )
      ).rows[0].id;
      try {
        const report = await verifier.verify();
        expect(report).toMatchObject({ intact: false, brokenAt: next });
        expect(report.intact || report.problem).toMatch(
          new RegExp(`does not match entry ${target.id} `),
        );
      } finally {
        await restore(original);
      }
      expect(await verifier.verify()).toMatchObject({ intact: true });
    });

    it('names the entry after one deleted from the middle, and the missing last entry', async () => {
      const ids = (
        await db.query<{ id: string }>('SELECT id FROM platform.audit_log ORDER BY id')
      ).rows.map((row) => row.id);
      const middle = ids[Math.floor(ids.length / 2)];
      const after = ids[ids.indexOf(middle) + 1];
      const removed = await snapshot(middle);
      await behindTriggers(['DELETE FROM platform.audit_log WHERE id = $1', [middle]]);
      try {
        const report = await verifier.verify();
        expect(report).toMatchObject({ intact: false, brokenAt: after });
        expect(report.intact || report.problem).toMatch(/removed/);
      } finally {
        await restore(removed);
      }
      expect(await verifier.verify()).toMatchObject({ intact: true });

      const last = ids[ids.length - 1];
      const lastEntry = await snapshot(last);
      await behindTriggers(['DELETE FROM platform.audit_log WHERE id = $1', [last]]);
      try {
        const report = await verifier.verify();
        expect(report).toMatchObject({ intact: false, brokenAt: last });
        expect(report.intact || report.problem).toMatch(/chain head records entry/);
      } finally {
        await restore(lastEntry);
      }
      expect(await verifier.verify()).toMatchObject({ intact: true });
    });

    it('records a change made from the CLI as the CLI, with the account and host it ran on', async () => {
      const result = await runCli(['tenants:migrate'], cliEnv());
      expect(result).toMatchObject({ code: 0 });
      const [created] = (await trail('action=migration-run.create&limit=1')).items;
      expect(created).toMatchObject({
        actor: 'cli',
        source: 'cli',
        ip: null,
        operatorId: null,
        before: null,
        after: { status: 'running' },
      });
      expect(created.userAgent).toMatch(/^cli \S+@\S+$/);
    });
  });

  describe('GET /v1/audit filters', () => {
    it('filters by tenant (id or slug), action, action prefix and operator', async () => {
      const bySlug = await trail(`tenant=${alpha.slug}&limit=200`);
      const byId = await trail(`tenant=${alpha.id}&limit=200`);
      expect(bySlug.items.map((entry) => entry.id)).toEqual(byId.items.map((entry) => entry.id));
      expect(bySlug.items.every((entry) => entry.tenantId === alpha.id)).toBe(true);

      const suspensions = await trail('action=tenant.suspend');
      expect(suspensions.total).toBe(1);
      expect(suspensions.items[0].tenantId).toBe(alpha.id);

      const tenantActions = await trail('action=tenant.*&limit=200');
      expect(tenantActions.items.length).toBeGreaterThan(0);
      expect(tenantActions.items.every((entry) => entry.action.startsWith('tenant.'))).toBe(true);
      // `_` in a prefix is a character, not LIKE's wildcard.
      expect((await trail('action=tenant_*')).total).toBe(0);

      const bootstrap = await trail('operator=bootstrap-admin&limit=200');
      expect(bootstrap.total).toBeGreaterThan(CONCURRENT_REQUESTS);
      expect(bootstrap.items.every((entry) => entry.operatorId === 'bootstrap-admin')).toBe(true);
      expect((await trail('operator=nobody')).total).toBe(0);
    });

    it('filters by time and pages newest first', async () => {
      const all = await trail('limit=200');
      const ids = all.items.map((entry) => BigInt(entry.id));
      expect(ids).toEqual([...ids].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)));

      const first = await trail('limit=3&offset=0');
      const second = await trail('limit=3&offset=3');
      expect(first.total).toBe(all.total);
      expect([...first.items, ...second.items].map((entry) => entry.id)).toEqual(
        all.items.slice(0, 6).map((entry) => entry.id),
      );

      const pivot = all.items[10];
      const from = await trail(`from=${encodeURIComponent(pivot.createdAt)}&limit=200`);
      const to = await trail(`to=${encodeURIComponent(pivot.createdAt)}&limit=200`);
      expect(from.items.map((entry) => entry.id)).toContain(pivot.id);
      expect(to.items.map((entry) => entry.id)).not.toContain(pivot.id);
      expect(from.items.every((entry) => entry.createdAt >= pivot.createdAt)).toBe(true);
      expect(to.items.every((entry) => entry.createdAt < pivot.createdAt)).toBe(true);
      expect(from.total + to.total).toBe(all.total);
    });

    it('refuses bad filters and unknown tenants, and needs a credential', async () => {
      await call('get', '/v1/audit?action=DROP%20TABLE').expect(400);
      await call('get', '/v1/audit?limit=0').expect(400);
      await call('get', '/v1/audit?from=yesterday').expect(400);
      await call('get', '/v1/audit?colour=blue').expect(400);
      await call('get', '/v1/audit?tenant=no-such-tenant').expect(404);
      await call('get', '/v1/tenants/no-such-tenant/audit').expect(404);
      await platform.api().get('/v1/audit').expect(401);
    });
  });
});
