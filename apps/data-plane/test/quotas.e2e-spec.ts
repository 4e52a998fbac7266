/**
 * Plan quotas and tenant files, on the real platform with an S3-compatible server: projects,
 * users (control plane) and stored bytes are refused with `403 quota_exceeded` naming the
 * quota, its limit and the usage, also when the writes race; a refused write leaves no row and
 * no object. Files round-trip byte for byte, live under the tenant's own prefix, are invisible
 * to other tenants, and hostile names, oversized bodies and a broken S3 change nothing.
 */
import type { AddressInfo, Server } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import request from 'supertest';
import { loadDataPlaneConfig } from '@platform/config';
import { createObjectStorage, type ObjectStorage } from '@platform/storage';
import { startS3Server, type S3Server } from '@platform/testing';
import { createDataPlaneApp } from '../src/data-plane.app';
import {
  startPlatform,
  type RunningPlatform,
  type TenantSummary,
} from '../../../test/platform-harness';

const BUCKET = 'tenants';
const FILE_MAX_BYTES = 4096;

interface FileBody {
  id: string;
  name: string;
  size: number;
  contentType: string;
  createdAt: string;
}

describe('plan quotas and tenant files', () => {
  let s3: S3Server;
  let storage: ObjectStorage;
  let platform: RunningPlatform;
  let db: Client;
  let alpha: TenantSummary;
  let beta: TenantSummary;
  let gamma: TenantSummary;
  let alphaToken: string;
  let alphaViewer: string;
  let betaToken: string;
  let gammaToken: string;

  const dp = () => request(platform.dataPlaneUrl);
  const on = (tenant: TenantSummary, token: string) => ({
    get: (path: string) =>
      dp()
        .get(path)
        .set('Host', platform.hostOf(tenant.slug))
        .set('Authorization', `Bearer ${token}`),
    post: (path: string) =>
      dp()
        .post(path)
        .set('Host', platform.hostOf(tenant.slug))
        .set('Authorization', `Bearer ${token}`),
    put: (path: string) =>
      dp()
        .put(path)
        .set('Host', platform.hostOf(tenant.slug))
        .set('Authorization', `Bearer ${token}`),
    delete: (path: string) =>
      dp()
        .delete(path)
        .set('Host', platform.hostOf(tenant.slug))
        .set('Authorization', `Bearer ${token}`),
  });
  const upload = (
    tenant: TenantSummary,
    token: string,
    name: string,
    body: Buffer | string,
    contentType = 'application/octet-stream',
  ) =>
    on(tenant, token)
      .put(`/api/files/${encodeURIComponent(name)}`)
      .set('Content-Type', contentType)
      // A string goes as is; superagent would serialise a Buffer sent as JSON into JSON.
      .send(body);

  async function count(tenant: TenantSummary, table: 'projects' | 'users'): Promise<number> {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${tenant.schema}".${table}`,
    );
    return rows[0].n;
  }

  async function fileRows(
    tenant: TenantSummary,
  ): Promise<{ id: string; name: string; object_key: string; uploaded: boolean }[]> {
    const { rows } = await db.query<{
      id: string;
      name: string;
      object_key: string;
      uploaded: boolean;
    }>(
      `SELECT id, name, object_key, uploaded_at IS NOT NULL AS uploaded
         FROM "${tenant.schema}".files ORDER BY created_at, id`,
    );
    return rows;
  }

  const fileKeys = (tenant: TenantSummary) => storage.listKeys(`${tenant.id}/files/`);

  /** Sets overrides through the operators' API and waits until the data plane enforces them. */
  async function setLimits(tenant: TenantSummary, limits: Record<string, number | null>) {
    const response = await platform
      .api()
      .put(`/v1/tenants/${tenant.id}/limits`)
      .set('Authorization', `Bearer ${platform.adminToken}`)
      .send(limits);
    expect(response.status).toBe(200);
    const token = { [alpha.id]: alphaToken, [beta.id]: betaToken, [gamma.id]: gammaToken }[
      tenant.id
    ];
    const deadline = Date.now() + 10_000;
    for (;;) {
      const usage = await on(tenant, token).get('/api/usage');
      const quotas = usage.body.quotas as Record<string, { limit: number }>;
      const applied = Object.entries(limits).every(
        ([name, value]) => value === null || !(name in quotas) || quotas[name].limit === value,
      );
      if (applied) return;
      if (Date.now() > deadline)
        throw new Error(`limits not applied: ${JSON.stringify(usage.body)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  beforeAll(async () => {
    s3 = await startS3Server({ buckets: [BUCKET] });
    const storageEnv = {
      STORAGE_PROVIDER: 's3',
      S3_BUCKET: BUCKET,
      S3_ENDPOINT: s3.endpoint,
      S3_REGION: s3.region,
      S3_FORCE_PATH_STYLE: 'true',
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    };
    platform = await startPlatform({
      controlPlaneEnv: storageEnv,
      dataPlaneEnv: {
        ...storageEnv,
        FILE_MAX_BYTES: String(FILE_MAX_BYTES),
        // One lane: all ten connections can serve one tenant at once, so its racing writes
        // really run side by side (with lanes a tenant gets two).
        DATABASE_POOL_LANES: '1',
      },
    });
    storage = createObjectStorage({
      provider: 's3',
      bucket: BUCKET,
      region: s3.region,
      endpoint: s3.endpoint,
      forcePathStyle: true,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
    });
    db = new Client({ connectionString: platform.database.url });
    await db.connect();
    [alpha, beta, gamma] = await Promise.all([
      platform.createTenant('quota-alpha'),
      platform.createTenant('quota-beta'),
      platform.createTenant('quota-gamma'),
    ]);
    [alphaToken, alphaViewer, betaToken, gammaToken] = await Promise.all([
      platform.signIn('quota-alpha'),
      platform.signIn('quota-alpha', 'viewer@quota-alpha.test', 'viewer'),
      platform.signIn('quota-beta'),
      platform.signIn('quota-gamma'),
    ]);
  });

  afterAll(async () => {
    await db?.end();
    await storage?.close();
    await platform?.stop();
    await s3?.stop();
  });

  describe('projects', () => {
    it('refuses the project past maxProjects with 403 quota_exceeded, inserting nothing', async () => {
      await setLimits(alpha, { maxProjects: 3 });
      for (let i = 1; i <= 3; i++) {
        const created = await on(alpha, alphaToken)
          .post('/api/projects')
          .send({ name: `p${i}` });
        expect(created.status).toBe(201);
      }
      const refused = await on(alpha, alphaToken).post('/api/projects').send({ name: 'p4' });
      expect(refused.status).toBe(403);
      expect(refused.body).toEqual({
        error: 'quota_exceeded',
        quota: 'maxProjects',
        limit: 3,
        used: 3,
        message: expect.stringContaining('maxProjects'),
      });
      expect(refused.body.message).toMatch(/3 of 3 projects/);
      expect(await count(alpha, 'projects')).toBe(3);
      // Another tenant's quota is its own: beta still creates.
      const other = await on(beta, betaToken).post('/api/projects').send({ name: 'b1' });
      expect(other.status).toBe(201);
    });

    it('lets exactly the remaining quota through when creates race', async () => {
      await setLimits(gamma, { maxProjects: 5 });
      const before = await count(gamma, 'projects');
      expect(before).toBe(0);
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          on(gamma, gammaToken)
            .post('/api/projects')
            .send({ name: `race-${i}` }),
        ),
      );
      const statuses = responses.map((response) => response.status);
      expect(statuses.filter((status) => status === 201)).toHaveLength(5);
      expect(statuses.filter((status) => status === 403)).toHaveLength(15);
      for (const response of responses.filter((r) => r.status === 403)) {
        expect(response.body).toMatchObject({ error: 'quota_exceeded', quota: 'maxProjects' });
      }
      expect(await count(gamma, 'projects')).toBe(5);
    });
  });

  describe('users (control plane)', () => {
    const addUser = (tenant: TenantSummary, email: string) =>
      platform
        .api()
        .post(`/v1/tenants/${tenant.id}/users`)
        .set('Authorization', `Bearer ${platform.adminToken}`)
        .send({ email, role: 'member' });

    it('refuses the user past maxUsers with 403 quota_exceeded, creating nothing', async () => {
      // The onboarding admin, the member and the viewer signed in above.
      const users = await count(alpha, 'users');
      expect(users).toBe(3);
      await setLimits(alpha, { maxUsers: 3 });
      const refused = await addUser(alpha, 'fourth@quota-alpha.test');
      expect(refused.status).toBe(403);
      expect(refused.body).toEqual({
        error: 'quota_exceeded',
        quota: 'maxUsers',
        limit: 3,
        used: 3,
        message: expect.stringContaining('maxUsers'),
      });
      expect(await count(alpha, 'users')).toBe(3);
      const { rows } = await db.query(
        `SELECT 1 FROM "${alpha.schema}".users WHERE email = 'fourth@quota-alpha.test'`,
      );
      expect(rows).toHaveLength(0);
    });

    it('lets exactly the remaining quota through when user creations race', async () => {
      const before = await count(beta, 'users');
      await setLimits(beta, { maxUsers: before + 2 });
      const responses = await Promise.all(
        Array.from({ length: 8 }, (_, i) => addUser(beta, `racer-${i}@quota-beta.test`)),
      );
      const statuses = responses.map((response) => response.status).sort();
      expect(statuses).toEqual([201, 201, 403, 403, 403, 403, 403, 403]);
      expect(await count(beta, 'users')).toBe(before + 2);
    });

    it('shows users, projects and storage against their limits in GET /api/usage', async () => {
      const usage = await on(alpha, alphaViewer).get('/api/usage');
      expect(usage.status).toBe(200);
      expect(usage.body.quotas).toEqual({
        maxUsers: { limit: 3, used: 3 },
        maxProjects: { limit: 3, used: 3 },
        maxStorageBytes: { limit: 100 * 1024 * 1024, used: expect.any(Number) },
      });
      const anonymous = await dp().get('/api/usage').set('Host', platform.hostOf(alpha.slug));
      expect(anonymous.status).toBe(401);
    });
  });

  describe('files', () => {
    it('round-trips bytes and type, lists the file, and deletes its object', async () => {
      const bytes = randomBytes(2000);
      const created = await upload(alpha, alphaToken, 'photo 1.png', bytes, 'image/png');
      expect(created.status).toBe(201);
      const file = created.body as FileBody;
      expect(file).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: 'photo 1.png',
        size: 2000,
        contentType: 'image/png',
        createdBy: expect.any(String),
        createdAt: expect.any(String),
      });

      const listed = await on(alpha, alphaViewer).get('/api/files');
      expect(listed.status).toBe(200);
      expect((listed.body.items as FileBody[]).map((item) => item.id)).toContain(file.id);

      const downloaded = await on(alpha, alphaViewer)
        .get(`/api/files/${file.id}`)
        .buffer(true)
        .parse((response, done) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => done(null, Buffer.concat(chunks)));
        });
      expect(downloaded.status).toBe(200);
      expect(Buffer.compare(downloaded.body as Buffer, bytes)).toBe(0);
      expect(downloaded.headers['content-type']).toBe('image/png');
      expect(downloaded.headers['content-disposition']).toBe(
        `attachment; filename="photo 1.png"; filename*=UTF-8''photo%201.png`,
      );
      expect(downloaded.headers['x-content-type-options']).toBe('nosniff');

      // The key is the tenant's prefix and the file id, never the name.
      const key = `${alpha.id}/files/${file.id}`;
      expect(await fileKeys(alpha)).toContain(key);
      expect((await fileRows(alpha)).find((row) => row.id === file.id)?.object_key).toBe(key);

      const viewerDelete = await on(alpha, alphaViewer).delete(`/api/files/${file.id}`);
      expect(viewerDelete.status).toBe(403);
      const deleted = await on(alpha, alphaToken).delete(`/api/files/${file.id}`);
      expect(deleted.status).toBe(204);
      expect(await storage.headObject(key)).toBeNull();
      expect((await fileRows(alpha)).some((row) => row.id === file.id)).toBe(false);
      const gone = await on(alpha, alphaToken).get(`/api/files/${file.id}`);
      expect(gone.status).toBe(404);
    });

    it('stores any type as sent, JSON and HTML included, and serves it inert', async () => {
      const json = await upload(alpha, alphaToken, 'data.json', '{"a": 1}', 'application/json');
      expect(json.status).toBe(201);
      expect(json.body).toMatchObject({ size: 8, contentType: 'application/json' });
      const html = '<script>alert(document.cookie)</script>';
      const page = await upload(alpha, alphaToken, 'page.html', html, 'text/html');
      expect(page.status).toBe(201);
      const served = await on(alpha, alphaToken).get(`/api/files/${page.body.id}`);
      expect(served.headers['content-type']).toBe('text/html');
      expect(served.headers['content-disposition']).toMatch(/^attachment;/);
      expect(served.headers['content-security-policy']).toContain('sandbox');
      expect(served.text).toBe(html);
      const viewerUpload = await upload(alpha, alphaViewer, 'nope.txt', 'x', 'text/plain');
      expect(viewerUpload.status).toBe(403);
      const empty = await upload(alpha, alphaToken, 'empty.txt', '', 'text/plain');
      expect(empty.status).toBe(201);
      expect(empty.body.size).toBe(0);
      const emptyServed = await on(alpha, alphaToken).get(`/api/files/${empty.body.id}`);
      expect(emptyServed.status).toBe(200);
      expect(emptyServed.text).toBe('');
    });

    it('replaces the file of the same name, deleting the old object', async () => {
      const first = await upload(alpha, alphaToken, 'report.txt', 'v1', 'text/plain');
      expect(first.status).toBe(201);
      const second = await upload(alpha, alphaToken, 'report.txt', 'version 2', 'text/plain');
      expect(second.status).toBe(200);
      expect(second.body.size).toBe(9);
      const rows = (await fileRows(alpha)).filter((row) => row.name === 'report.txt');
      expect(rows.map((row) => row.id)).toEqual([second.body.id]);
      expect(await storage.headObject(`${alpha.id}/files/${first.body.id}`)).toBeNull();
      const old = await on(alpha, alphaToken).get(`/api/files/${first.body.id}`);
      expect(old.status).toBe(404);
    });

    it('keeps tenants apart: B cannot list, download or delete A’s file by id', async () => {
      const created = await upload(alpha, alphaToken, 'secret.bin', randomBytes(64));
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      const download = await on(beta, betaToken).get(`/api/files/${id}`);
      expect(download.status).toBe(404);
      const removal = await on(beta, betaToken).delete(`/api/files/${id}`);
      expect(removal.status).toBe(404);
      const listed = await on(beta, betaToken).get('/api/files?limit=100');
      expect((listed.body.items as FileBody[]).some((item) => item.id === id)).toBe(false);
      // A's token on B's host is no token at all there.
      const crossToken = await on(beta, alphaToken).get(`/api/files/${id}`);
      expect(crossToken.status).toBe(401);
      const crossUpload = await upload(beta, alphaToken, 'planted.txt', 'x', 'text/plain');
      expect(crossUpload.status).toBe(401);
      // A's file and object are untouched, and B owns no object.
      const still = await on(alpha, alphaToken).get(`/api/files/${id}`);
      expect(still.status).toBe(200);
      expect(await storage.headObject(`${alpha.id}/files/${id}`)).not.toBeNull();
      expect(await fileKeys(beta)).toEqual([]);
      expect(await fileRows(beta)).toEqual([]);
    });

    it.each([
      ['..', 'not-blank'],
      ['.', 'not-blank'],
      ['   ', 'not-blank'],
      ['a/b', 'no-slash'],
      ['../../etc/passwd', 'no-slash'],
      ['a\\b', 'no-slash'],
      ['line\nbreak', 'no-control-character'],
      ['tab\there', 'no-control-character'],
      ['bell\u0007', 'no-control-character'],
      ['invoice\u202efdp.exe', 'no-control-character'],
      ['x'.repeat(201), 'length'],
    ])('refuses the name %j with 400 naming %s, storing nothing', async (name, rule) => {
      const rowsBefore = await fileRows(alpha);
      const keysBefore = await fileKeys(alpha);
      const response = await upload(alpha, alphaToken, name, 'hostile', 'text/plain');
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({
        error: 'validation_failed',
        details: [{ field: 'name', rule }],
      });
      expect(await fileRows(alpha)).toEqual(rowsBefore);
      expect(await fileKeys(alpha)).toEqual(keysBefore);
    });

    it('accepts 200 characters of any script, and stores the name only as data', async () => {
      const name = `${'ü'.repeat(150)}${'日'.repeat(49)}!`;
      const created = await upload(alpha, alphaToken, name, 'ok', 'text/plain');
      expect(created.status).toBe(201);
      expect(created.body.name).toBe(name);
      expect(await fileKeys(alpha)).toContain(`${alpha.id}/files/${created.body.id}`);
    });

    it('refuses a bad id with 400 and a bad Content-Type with 400', async () => {
      const badId = await on(alpha, alphaToken).get('/api/files/not-a-uuid');
      expect(badId.status).toBe(400);
      expect(badId.body).toMatchObject({ details: [{ field: 'id', rule: 'uuid' }] });
      for (const type of ['nonsense', 'a/b c', 'text/plain junk']) {
        const badType = await upload(alpha, alphaToken, 'typed.bin', 'x', type);
        expect(badType.status).toBe(400);
        expect(badType.body).toMatchObject({ details: [{ field: 'content-type' }] });
      }
      const withParameters = await upload(alpha, alphaToken, 'p.txt', 'x', 'text/plain; x="y"');
      expect(withParameters.status).toBe(201);
    });

    it('takes an upload with a trailing slash like one without (it was refused as not JSON)', async () => {
      const created = await on(alpha, alphaToken)
        .put('/api/files/slash.txt/')
        .set('Content-Type', 'text/plain')
        .send('hello');
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name: 'slash.txt', size: 5 });
      const downloaded = await on(alpha, alphaToken).get(`/api/files/${created.body.id}`);
      expect(downloaded.text).toBe('hello');
    });

    it('refuses a body over FILE_MAX_BYTES with 413, declared or chunked, storing nothing', async () => {
      const rowsBefore = await fileRows(alpha);
      const keysBefore = await fileKeys(alpha);
      const declared = await upload(alpha, alphaToken, 'big.bin', randomBytes(FILE_MAX_BYTES + 1));
      expect(declared.status).toBe(413);
      expect(declared.body).toEqual({
        error: 'payload_too_large',
        message: `file is larger than FILE_MAX_BYTES (${FILE_MAX_BYTES} bytes)`,
      });
      const chunked = await chunkedPut(
        platform,
        alpha,
        alphaToken,
        'big-chunked.bin',
        randomBytes(FILE_MAX_BYTES * 3),
      );
      expect(chunked.status).toBe(413);
      const exact = await upload(alpha, alphaToken, 'exact.bin', randomBytes(FILE_MAX_BYTES));
      expect(exact.status).toBe(201);
      const after = await fileRows(alpha);
      expect(after.filter((row) => !rowsBefore.some((r) => r.id === row.id))).toEqual([
        expect.objectContaining({ name: 'exact.bin', uploaded: true }),
      ]);
      expect((await fileKeys(alpha)).length).toBe(keysBefore.length + 1);
    });
  });

  describe('storage quota', () => {
    it('refuses the upload past maxStorageBytes with 403, leaving no row and no object', async () => {
      await setLimits(gamma, { maxStorageBytes: 1000 });
      const first = await upload(gamma, gammaToken, 'a.bin', randomBytes(600));
      expect(first.status).toBe(201);
      const refused = await upload(gamma, gammaToken, 'b.bin', randomBytes(500));
      expect(refused.status).toBe(403);
      expect(refused.body).toEqual({
        error: 'quota_exceeded',
        quota: 'maxStorageBytes',
        limit: 1000,
        used: 600,
        message: expect.stringContaining('maxStorageBytes'),
      });
      expect((await fileRows(gamma)).map((row) => row.name)).toEqual(['a.bin']);
      expect(await fileKeys(gamma)).toEqual([`${gamma.id}/files/${first.body.id}`]);
      // What fits still fits, and replacing a file counts only the new size.
      const fits = await upload(gamma, gammaToken, 'c.bin', randomBytes(400));
      expect(fits.status).toBe(201);
      const replaced = await upload(gamma, gammaToken, 'a.bin', randomBytes(550));
      expect(replaced.status).toBe(200);
      const usage = await on(gamma, gammaToken).get('/api/usage');
      expect(usage.body.quotas.maxStorageBytes).toEqual({ limit: 1000, used: 950 });
      // Deleting frees the bytes.
      await on(gamma, gammaToken).delete(`/api/files/${fits.body.id}`).expect(204);
      await on(gamma, gammaToken).delete(`/api/files/${replaced.body.id}`).expect(204);
      expect(await fileKeys(gamma)).toEqual([]);
    });

    it('lets only what fits through when uploads race', async () => {
      const responses = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          upload(gamma, gammaToken, `race-${i}.bin`, randomBytes(300)),
        ),
      );
      const statuses = responses.map((response) => response.status).sort();
      expect(statuses).toEqual([201, 201, 201, 403, 403, 403, 403, 403]);
      const rows = await fileRows(gamma);
      expect(rows).toHaveLength(3);
      expect(rows.every((row) => row.uploaded)).toBe(true);
      expect((await fileKeys(gamma)).sort()).toEqual(rows.map((row) => row.object_key).sort());
    });
  });

  describe('reservations', () => {
    it('counts a live reservation, ignores and sweeps a dead one with its object', async () => {
      await setLimits(gamma, { maxStorageBytes: 5000 });
      const used = (await on(gamma, gammaToken).get('/api/usage')).body.quotas.maxStorageBytes
        .used as number;
      const [dead, live] = [randomUUID(), randomUUID()];
      // A worker died after storing this object, an hour ago; another upload is in flight now.
      await storage.putObject(`${gamma.id}/files/${dead}`, randomBytes(3000));
      await db.query(
        `INSERT INTO "${gamma.schema}".files (id, name, size_bytes, content_type, object_key, created_at)
         VALUES ($1, 'dead.bin', 3000, 'application/octet-stream', $2, now() - interval '1 hour'),
                ($3, 'live.bin', 1000, 'application/octet-stream', $4, now())`,
        [dead, `${gamma.id}/files/${dead}`, live, `${gamma.id}/files/${live}`],
      );
      const usage = await on(gamma, gammaToken).get('/api/usage');
      expect(usage.body.quotas.maxStorageBytes.used).toBe(used + 1000);
      const listed = await on(gamma, gammaToken).get('/api/files?limit=100');
      expect((listed.body.items as FileBody[]).map((item) => item.id)).not.toContain(live);

      const next = await upload(gamma, gammaToken, 'next.bin', randomBytes(100));
      expect(next.status).toBe(201);
      const ids = (await fileRows(gamma)).map((row) => row.id);
      expect(ids).not.toContain(dead);
      expect(ids).toContain(live);
      expect(await storage.headObject(`${gamma.id}/files/${dead}`)).toBeNull();

      const over = await upload(gamma, gammaToken, 'over.bin', randomBytes(5000 - used - 1100 + 1));
      expect(over.status).toBe(403);
      expect(over.body).toMatchObject({ quota: 'maxStorageBytes', used: used + 1100 });
      await db.query(`DELETE FROM "${gamma.schema}".files WHERE id = $1`, [live]);
    });
  });

  describe('when storage fails or is off', () => {
    it('answers 503 storage_unavailable naming STORAGE_PROVIDER when storage is off', async () => {
      const config = loadDataPlaneConfig({
        ...platform.controlPlaneEnv,
        DATA_PLANE_PORT: '0',
        DATA_PLANE_HOST: '127.0.0.1',
        STORAGE_PROVIDER: 'none',
      });
      const app: INestApplication = await createDataPlaneApp(config);
      await app.listen(0, '127.0.0.1');
      try {
        const port = ((app.getHttpServer() as Server).address() as AddressInfo).port;
        const offline = request(`http://127.0.0.1:${port}`);
        const host = platform.hostOf(gamma.slug);
        const auth = `Bearer ${gammaToken}`;
        for (const response of [
          await offline.get('/api/files').set('Host', host).set('Authorization', auth),
          await offline
            .put('/api/files/x.txt')
            .set('Host', host)
            .set('Authorization', auth)
            .set('Content-Type', 'text/plain')
            .send('x'),
        ]) {
          expect(response.status).toBe(503);
          expect(response.body).toEqual({
            error: 'storage_unavailable',
            message: expect.stringContaining('STORAGE_PROVIDER'),
          });
        }
      } finally {
        await app.close();
      }
    });

    it('leaves no row and no used quota behind when the S3 write fails', async () => {
      const rowsBefore = await fileRows(gamma);
      const usageBefore = (await on(gamma, gammaToken).get('/api/usage')).body.quotas
        .maxStorageBytes;
      await s3.stop();
      const response = await upload(gamma, gammaToken, 'lost.bin', randomBytes(10));
      expect(response.status).toBe(503);
      expect(response.body).toMatchObject({ error: 'storage_unavailable' });
      expect(JSON.stringify(response.body)).not.toContain('127.0.0.1');
      expect(await fileRows(gamma)).toEqual(rowsBefore);
      const usageAfter = (await on(gamma, gammaToken).get('/api/usage')).body.quotas
        .maxStorageBytes;
      expect(usageAfter).toEqual(usageBefore);
    });
  });
});

/** A PUT with Transfer-Encoding: chunked, i.e. no Content-Length to refuse it by. */
function chunkedPut(
  platform: RunningPlatform,
  tenant: TenantSummary,
  token: string,
  name: string,
  body: Buffer,
): Promise<{ status: number; body: string }> {
  const url = new URL(`${platform.dataPlaneUrl}/api/files/${encodeURIComponent(name)}`);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'PUT',
        headers: {
          Host: platform.hostOf(tenant.slug),
          Authorization: `Bearer ${token}`,
          'Content-Type': 'application/octet-stream',
          'Transfer-Encoding': 'chunked',
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        );
      },
    );
    // The server may answer and close before the last chunk: that is the point.
    req.on('error', reject);
    for (let offset = 0; offset < body.length; offset += 1024) {
      req.write(body.subarray(offset, offset + 1024));
    }
    req.end();
  });
}
