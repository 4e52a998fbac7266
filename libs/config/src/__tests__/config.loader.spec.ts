import { inspect } from 'node:util';
import {
  ConfigValidationError,
  loadControlPlaneConfig,
  loadDataPlaneConfig,
} from '../config.loader';

describe('config loading', () => {
  it('applies the documented defaults', () => {
    const config = loadDataPlaneConfig({});
    // The data plane signs in as its own login, on the same server and database.
    expect(config.databaseUrl.reveal()).toBe(
      'postgres://platform_data_plane@127.0.0.1:5432/tenancy',
    );
    expect(config.clusters.map((cluster) => cluster.url.reveal())).toEqual([
      'postgres://platform_data_plane@127.0.0.1:5432/tenancy',
    ]);
    expect(loadControlPlaneConfig({}).databaseUrl.reveal()).toBe(
      'postgres://postgres@127.0.0.1:5432/tenancy',
    );
    expect(config.redisUrl.reveal()).toBe('redis://127.0.0.1:6379');
    expect(config.platformDomain).toBe('localhost');
    expect(config.port).toBe(3000);
    expect(loadControlPlaneConfig({}).port).toBe(3001);
  });

  it('generates an admin token in development and refuses to start without one in production', () => {
    const development = loadControlPlaneConfig({});
    expect(development.adminTokenGenerated).toBe(true);
    expect(development.adminToken.reveal().length).toBeGreaterThanOrEqual(24);
    expect(() =>
      loadControlPlaneConfig({
        NODE_ENV: 'production',
        SIGNING_KEY_ENCRYPTION_KEY: 'a'.repeat(64),
      }),
    ).toThrow(/PLATFORM_ADMIN_TOKEN: required in production/);
  });

  it('names every invalid setting and the rule it breaks', () => {
    let error: unknown;
    try {
      loadDataPlaneConfig({
        DATABASE_URL: 'mysql://x',
        DATA_PLANE_PORT: '70000',
        PLATFORM_DOMAIN: 'bad domain',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    const problems = (error as ConfigValidationError).problems.join('\n');
    expect(problems).toMatch(/DATABASE_URL: must be a postgres/);
    expect(problems).toMatch(/DATA_PLANE_PORT/);
    expect(problems).toMatch(/PLATFORM_DOMAIN: must be a DNS hostname/);
  });

  it('never prints secrets', () => {
    const config = loadControlPlaneConfig({
      PLATFORM_ADMIN_TOKEN: 'super-secret-token-of-24-chars',
    });
    const printed = `${JSON.stringify(config)} ${inspect(config)} ${String(config.adminToken)}`;
    expect(printed).not.toContain('super-secret-token-of-24-chars');
  });

  it('parses extra tenant clusters and checks the default one exists', () => {
    const config = loadDataPlaneConfig({
      TENANT_CLUSTERS: 'eu=postgres://db-eu/tenancy,us=postgres://db-us/tenancy',
      DEFAULT_TENANT_CLUSTER: 'eu',
    });
    expect(config.clusters.map((cluster) => cluster.name)).toEqual(['main', 'eu', 'us']);
    expect(() => loadDataPlaneConfig({ DEFAULT_TENANT_CLUSTER: 'mars' })).toThrow(
      /not a configured cluster/,
    );
    expect(() => loadDataPlaneConfig({ TENANT_CLUSTERS: 'bad' })).toThrow(/TENANT_CLUSTERS/);
  });
});

describe('the data plane database login', () => {
  it('replaces the user and password of every cluster URL', () => {
    const config = loadDataPlaneConfig({
      DATABASE_URL: 'postgres://owner:owner-secret@db.internal:6432/platform',
      TENANT_CLUSTERS: 'eu=postgres://owner:x@eu.internal/platform',
      DATA_PLANE_DATABASE_USER: 'dp_login',
      DATA_PLANE_DATABASE_PASSWORD: 'p@ss:word/1',
    });
    expect(config.clusters.map((cluster) => cluster.url.reveal())).toEqual([
      'postgres://dp_login:p%40ss%3Aword%2F1@db.internal:6432/platform',
      'postgres://dp_login:p%40ss%3Aword%2F1@eu.internal/platform',
    ]);
  });

  it.each(['t_tenant', 'pg_signal_backend', 'Upper', 'with-dash', ''])(
    'refuses %j as the login name',
    (user) => {
      expect(() => loadDataPlaneConfig({ DATA_PLANE_DATABASE_USER: user })).toThrow(
        /DATA_PLANE_DATABASE_USER/,
      );
    },
  );
});
