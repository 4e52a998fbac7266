import { startPlatform, type RunningPlatform } from '../../../test/platform-harness';

describe('platform smoke', () => {
  let platform: RunningPlatform;
  beforeAll(async () => {
    platform = await startPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('creates a tenant that serves its own lookups on its host', async () => {
    const tenant = await platform.createTenant('smoke-one');
    expect(tenant.status).toBe('active');
    const token = await platform.signIn('smoke-one');
    expect(token.split('.')).toHaveLength(3);
  });
});
