/**
 * The ops console in a real browser: Debian's Chromium (headless, driven by playwright-core)
 * against the real platform (control plane, worker, data plane, PostgreSQL, Redis). Operators
 * are created with the API and the bootstrap token; everything else goes through the page as a
 * person would, keyboard and confirmations included, and the outcome is checked with the API.
 *
 * Screenshots of the main pages go to .tmp/screenshots/ (artefacts, not committed).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Locator,
  type Page,
} from 'playwright-core';
import { slugViolation } from '@platform/tenancy';
import { freePort } from '@platform/testing';
import { startPlatform, type RunningPlatform } from '../../../test/platform-harness';

type Role = 'admin' | 'ops' | 'sre' | 'viewer';

interface Account {
  readonly email: string;
  readonly password: string;
}

const SCREENSHOTS = join(__dirname, '../../../.tmp/screenshots');
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const VIEWPORT = { width: 1280, height: 800 };
const WAIT = { timeout: 15_000 };
const ACTION_BUTTONS =
  /^(Suspend|Resume|Delete|Retry onboarding|Resend welcome mail|Add domain|Verify now|Remove|Dry run|Start run|Pause|Cancel|Onboard tenant)/;

let platform: RunningPlatform;
let browser: Browser;
const accounts = {} as Record<Role, Account>;
const contexts: BrowserContext[] = [];
/** Uncaught errors in any page: a console that throws fails the test that made it throw. */
const pageErrors: string[] = [];
// Each run gets its own database and Redis prefix (platform-harness): plain names cannot collide.
const slug = 'acme';
const doomed = 'globex';

const bootstrap = () => ({ Authorization: `Bearer ${platform.adminToken}` });

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  [platform, browser] = await Promise.all([
    startPlatform({
      // Custom domains are checked against a resolver that answers nothing: they stay pending.
      controlPlaneEnv: { CUSTOM_DOMAIN_DNS_SERVERS: `127.0.0.1:${await freePort()}` },
    }),
    // A fresh temporary profile per launch; never a downloaded browser.
    chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS }),
  ]);
  for (const role of ['admin', 'ops', 'sre', 'viewer'] as const) {
    const email = `${role}@console.example`;
    const password = `console ${role} password ${slug}`;
    await platform
      .api()
      .post('/v1/operators')
      .set(bootstrap())
      .send({ email, role, password, name: `The ${role}` })
      .expect(201);
    accounts[role] = { email, password };
  }
});

afterEach(() => {
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await platform?.stop();
});

async function openConsole(): Promise<Page> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(`${platform.controlPlaneUrl}/console`);
  return page;
}

async function signIn(role: Role, page?: Page): Promise<Page> {
  const tab = page ?? (await openConsole());
  await tab.getByRole('heading', { name: 'Sign in' }).waitFor(WAIT);
  // Keyboard only: the e-mail field has focus, Tab moves on, Enter submits.
  await tab.keyboard.type(accounts[role].email);
  await tab.keyboard.press('Tab');
  await tab.keyboard.type(accounts[role].password);
  await tab.keyboard.press('Enter');
  await tab.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor(WAIT);
  return tab;
}

async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  // Notices (bottom right, they fade after a few seconds) would cover part of the page.
  await page.evaluate(
    `document.querySelectorAll('.notices > div').forEach((n) => n.replaceChildren())`,
  );
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage });
}

/** The tenant as the API sees it (bootstrap token). */
async function tenantStatus(idOrSlug: string): Promise<string> {
  const response = await platform.api().get(`/v1/tenants/${idOrSlug}`).set(bootstrap()).expect(200);
  return response.body.status as string;
}

async function attributes(locator: Locator, name: string): Promise<(string | null)[]> {
  const values: (string | null)[] = [];
  for (const item of await locator.all()) values.push(await item.getAttribute(name));
  return values;
}

async function openTenant(page: Page, tenantSlug: string): Promise<void> {
  await page.goto(`${platform.controlPlaneUrl}/console#/tenants/${tenantSlug}`);
  await page.locator('.tenant-status[data-status]').waitFor(WAIT);
}

describe('the ops console', () => {
  it('serves its files with a strict CSP and refuses paths outside its own list', async () => {
    const page = await platform.api().get('/console').expect(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)/); // no inline script
    await platform
      .api()
      .get('/console/app.js')
      .expect('content-type', /javascript/);
    await platform.api().get('/console/..%2Fconsole.controller.ts').expect(404);
    await platform.api().get('/console/console.controller.ts').expect(404);
  });

  it('ops onboards a tenant: the slug rule inline, then every saga step live until active', async () => {
    const page = await openConsole();
    await shot(page, 'sign-in');
    await signIn('ops', page);
    await shot(page, 'tenants');

    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Onboard tenant' })
      .click();
    const slugInput = page.getByLabel('Slug');
    await slugInput.fill('Bad_Slug');
    await slugInput.press('Tab');
    const slugField = page.locator('[data-field="slug"]');
    await slugField.locator('.field-error', { hasText: 'rule: charset' }).waitFor(WAIT);
    expect(await slugField.locator('.field-error').textContent()).toBe(
      'slug may contain only lower-case letters a-z, digits 0-9 and hyphens (rule: charset)',
    );
    expect(await slugInput.getAttribute('aria-invalid')).toBe('true');

    // The console's checks agree with the API's rules (the lists come from the server itself).
    const samples = ['ab', 'a'.repeat(41), 'Acme', '-acme', 'acme-', 'xn--acme', 'admin', 'pg-x'];
    const inBrowser = await page.evaluate<(string | null)[]>(
      `import('/console/validation.js').then((rules) =>
         ${JSON.stringify(samples)}.map((s) => rules.slugViolation(s)?.rule ?? null))`,
    );
    expect(inBrowser).toEqual(samples.map((s) => slugViolation(s)?.rule ?? null));

    await slugInput.fill(slug);
    expect(await slugInput.getAttribute('aria-invalid')).toBeNull();
    await page.getByLabel('Name').fill('Acme Corp');

    // An address only the API's stricter check refuses: its 400 lands next to the field.
    const email = page.getByLabel('Admin e-mail');
    await email.fill(`jane..doe@${slug}.test`);
    await page.getByRole('button', { name: 'Onboard tenant' }).click();
    const emailError = page.locator('[data-field="adminEmail"] .field-error');
    await emailError.filter({ hasText: 'adminEmail must be an e-mail address' }).waitFor(WAIT);
    expect(await email.getAttribute('aria-invalid')).toBe('true');
    await platform.api().get(`/v1/tenants/${slug}`).set(bootstrap()).expect(404);

    await email.fill(`admin@${slug}.test`);
    await page.evaluate('window.stayed = true');
    await page.getByRole('button', { name: 'Onboard tenant' }).click();

    await page.waitForURL(`**/console#/onboard/${slug}`, WAIT);
    await page.locator('.tenant-status[data-status="active"]').waitFor(WAIT);
    const steps = page.locator('ol.steps > li');
    expect(await steps.count()).toBe(9);
    // (Strings run in the page: this file is compiled without the DOM's types.) The string must
    // be an arrow function: playwright evals it once and keeps the function, whereas a bare
    // expression is eval'd again on every poll, which the console's CSP refuses.
    await page.waitForFunction(
      `() => [...document.querySelectorAll('ol.steps > li')]
         .every((li) => ['done', 'skipped'].includes(li.dataset.status))`,
      undefined,
      WAIT,
    );
    const statuses = await attributes(steps, 'data-status');
    expect(statuses).toContain('done');
    // Skipped steps say why (e.g. DNS is off) right in the list.
    expect(await page.locator('li[data-step="dns-record"]').textContent()).toContain('DNS is off');
    // Live: the same document from submit to active, no reload.
    expect(await page.evaluate('window.stayed')).toBe(true);
    expect(await tenantStatus(slug)).toBe('active');
    await shot(page, 'onboarding-progress');
  });

  it('ops suspends and resumes it behind confirmations that name it, and sees the audit entries', async () => {
    const page = await signIn('ops');
    await openTenant(page, slug);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Acme Corp');

    // Escape backs out: nothing happens.
    await page.getByRole('button', { name: 'Suspend' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor(WAIT);
    expect(await dialog.getByRole('heading').textContent()).toBe('Suspend Acme Corp?');
    expect(await dialog.textContent()).toContain(`(${slug})`);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached', ...WAIT });
    expect(await tenantStatus(slug)).toBe('active');

    await page.getByRole('button', { name: 'Suspend' }).click();
    await page
      .getByRole('dialog')
      .getByRole('button', { name: `Suspend ${slug}` })
      .click();
    await page.locator('.tenant-status[data-status="suspended"]').waitFor(WAIT);
    expect(await tenantStatus(slug)).toBe('suspended');

    // Keyboard only from here: focus went to the action that replaced the one used.
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Resume');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Resume Acme Corp?' }).waitFor(WAIT);
    await page.keyboard.press('Tab'); // from Cancel (the safe default) to the confirmation
    await page.keyboard.press('Enter');
    await page.locator('.tenant-status[data-status="active"]').waitFor(WAIT);
    expect(await tenantStatus(slug)).toBe('active');

    const audit = page.locator('tr[data-action="tenant.resume"]');
    await audit.waitFor(WAIT);
    const actions = await attributes(page.locator('tr[data-action]'), 'data-action');
    expect(actions.slice(0, 2)).toEqual(['tenant.resume', 'tenant.suspend']);
    expect(actions).toContain('tenant.create');
    expect(await audit.textContent()).toContain(`operator:${accounts.ops.email}`);
    expect(await page.locator('tr[data-action="tenant.suspend"]').textContent()).toContain(
      'status: active → suspended',
    );

    // The admin onboarding invited: listed with an outstanding invite, no password yet.
    const users = page.getByRole('table', { name: 'Users' });
    await users.waitFor(WAIT);
    const usersText = (await users.textContent()) ?? '';
    expect(usersText).toContain('admin');
    expect(usersText).toContain('invited, link expires');

    // A custom domain: the records to publish, right where the customer's admin needs them.
    const hostname = `shop-${slug}.example.com`;
    await page.getByLabel('Custom domain', { exact: true }).fill(hostname);
    await page.getByRole('button', { name: 'Add domain' }).click();
    const domain = page.locator(`tr[data-hostname="${hostname}"]`);
    await domain.waitFor(WAIT);
    expect(await domain.locator('.badge').first().textContent()).toBe('pending verification');
    const records = await domain.locator('table.records tbody tr').allTextContents();
    expect(records).toEqual([
      `CNAME${hostname}${slug}.platform.test`,
      expect.stringMatching(
        new RegExp(`^TXT_platform-challenge\\.${hostname.replaceAll('.', '\\.')}\\S+$`),
      ),
    ]);
    await page.locator('tr[data-action="tenant.domain.add"]').waitFor(WAIT);
    await page.getByRole('heading', { level: 1 }).scrollIntoViewIfNeeded();
    await shot(page, 'tenant');
    await shot(page, 'tenant-full', true);
  });

  it('ops deletes a tenant only after typing its slug', async () => {
    await platform.createTenant(doomed);
    const page = await signIn('ops');
    await openTenant(page, doomed);
    await page.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog');
    const confirm = dialog.getByRole('button', { name: `Delete ${doomed}` });
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByLabel(`Type ${doomed} to confirm`).fill(slug);
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByLabel(`Type ${doomed} to confirm`).fill(doomed);
    await confirm.click();
    await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor(WAIT);
    expect(await tenantStatus(doomed)).toBe('deleted');
  });

  it('ops cannot reach the operators page: no link, and the URL shows "not allowed"', async () => {
    const page = await signIn('ops');
    const nav = page.getByRole('navigation', { name: 'Main' });
    expect(await nav.getByRole('link').allTextContents()).toEqual([
      'Tenants',
      'Onboard tenant',
      'Fleet (SRE)',
    ]);
    await page.goto(`${platform.controlPlaneUrl}/console#/operators`);
    const refusal = page.locator('[data-state="not-allowed"]');
    await refusal.waitFor(WAIT);
    expect(await refusal.textContent()).toContain('Not allowed');
    expect(await page.getByRole('table').count()).toBe(0);
  });

  it('a viewer sees no action buttons anywhere, and the API refuses its session a write', async () => {
    const page = await signIn('viewer');
    expect(await page.getByRole('link', { name: 'Onboard tenant' }).count()).toBe(0);
    await page.locator(`tr[data-tenant="${slug}"]`).waitFor(WAIT);

    // Search and status filter (reading is for everyone): the tenant deleted above, then none.
    await page.getByLabel('Search').fill(doomed);
    await page.getByText('Showing 1–1 of 1').waitFor(WAIT);
    expect(await attributes(page.locator('tr[data-tenant]'), 'data-tenant')).toEqual([doomed]);
    await page.getByLabel('Status').selectOption('active');
    await page.getByText('No tenants match these filters.').waitFor(WAIT);
    expect(page.url()).toContain(`search=${doomed}&status=active`);

    await openTenant(page, slug);
    await page.locator('tr[data-action]').first().waitFor(WAIT);
    await page.locator('tr[data-hostname]').first().waitFor(WAIT);
    expect(await page.getByRole('button', { name: ACTION_BUTTONS }).count()).toBe(0);
    expect(await page.getByRole('textbox').count()).toBe(0);

    await page.goto(`${platform.controlPlaneUrl}/console#/sre`);
    await page.getByRole('heading', { name: 'Migration runs' }).waitFor(WAIT);
    await page.getByText('Latest template version').waitFor(WAIT);
    expect(await page.getByRole('button', { name: ACTION_BUTTONS }).count()).toBe(0);

    // The page hides the buttons; the API is what refuses. Same session, CSRF token and all.
    const refused = await page.evaluate(async (tenant) => {
      const me = (await (await fetch('/v1/auth/me')).json()) as { csrfToken: string };
      const response = await fetch(`/v1/tenants/${tenant}/suspend`, {
        method: 'POST',
        headers: { 'X-CSRF-Token': me.csrfToken },
      });
      return { status: response.status, body: (await response.json()) as { error: string } };
    }, slug);
    expect(refused).toMatchObject({ status: 403, body: { error: 'forbidden' } });
    expect(await tenantStatus(slug)).toBe('active');
  });

  it('the tenant page lists its certificates and the platform wildcard with expiry, never a key', async () => {
    const db = new Client({ connectionString: platform.database.url });
    await db.connect();
    try {
      const { id } = (
        await db.query<{ id: string }>('SELECT id FROM platform.tenants WHERE slug = $1', [slug])
      ).rows[0];
      const other = (
        await db.query<{ id: string }>('SELECT id FROM platform.tenants WHERE slug = $1', [doomed])
      ).rows[0].id;
      const insert = (subject: string, tenantId: string | null, status: string, days: number) =>
        db.query(
          `INSERT INTO platform.certificates
             (id, subject, names, tenant_id, status, private_key_encrypted, certificate_pem,
              not_before, not_after)
           VALUES (gen_random_uuid(), $1, $2, $3, $4, 'SECRET-KEY-MATERIAL', 'PEM', now(),
                   now() + make_interval(days => $5))`,
          [subject, [subject], tenantId, status, days],
        );
      await insert('*.platform.test', null, 'issued', 60);
      await insert(`shop-${slug}.example.com`, id, 'issued', 10);
      await insert(`shop-${slug}.example.com`, id, 'replaced', 1);
      await insert(`other-${slug}.example.com`, other, 'issued', 30);
    } finally {
      await db.end();
    }
    const listed = await platform
      .api()
      .get(`/v1/tenants/${slug}/certificates`)
      .set(bootstrap())
      .expect(200);
    expect(JSON.stringify(listed.body)).not.toMatch(
      /SECRET-KEY-MATERIAL|PEM|privateKey|certificatePem/,
    );
    expect(
      (listed.body as { subject: string; scope: string; status: string }[]).map(
        ({ subject, scope, status }) => ({ subject, scope, status }),
      ),
    ).toEqual([
      { subject: '*.platform.test', scope: 'platform', status: 'issued' },
      { subject: `shop-${slug}.example.com`, scope: 'custom-domain', status: 'issued' },
    ]);

    const page = await signIn('viewer');
    await openTenant(page, slug);
    const custom = page
      .getByRole('row', { name: new RegExp(`shop-${slug}`) })
      .filter({ hasText: 'custom domain' });
    await custom.waitFor(WAIT);
    expect(await custom.textContent()).toMatch(/in (9|10) days/);
    expect(await page.getByRole('row', { name: /platform wildcard/ }).textContent()).toMatch(
      /in (59|60) days/,
    );
  });

  it('an admin creates an operator (password shown once), changes its role and revokes an API key', async () => {
    // A key of the viewer's, made the only way keys are made: from a signed-in session.
    const login = await platform.api().post('/v1/auth/login').send(accounts.viewer).expect(200);
    const cookie = (login.headers['set-cookie'] as unknown as string[])[0].split(';')[0];
    const created = await platform
      .api()
      .post('/v1/api-keys')
      .set({ Cookie: cookie, 'X-CSRF-Token': login.body.csrfToken as string })
      .send({ name: 'nightly report' })
      .expect(201);
    const { key, apiKey } = created.body as { key: string; apiKey: { prefix: string } };
    await platform.api().get('/v1/tenants').set('Authorization', `Bearer ${key}`).expect(200);

    const page = await signIn('admin');
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Operators' })
      .click();
    await page.locator(`tr[data-operator="${accounts.viewer.email}"]`).waitFor(WAIT);
    await page.locator(`tr[data-key="${apiKey.prefix}"]`).waitFor(WAIT);
    await shot(page, 'operators');

    const email = 'jane@console.example';
    const form = page.getByRole('form', { name: 'Create an operator' });
    await form.getByLabel('E-mail').fill(email);
    await form.getByLabel('Role').selectOption('ops');
    await form.getByRole('button', { name: 'Create operator' }).click();
    const oneTime = page.locator('.one-time-password');
    await oneTime.waitFor(WAIT);
    const password = (await oneTime.textContent())!;
    expect(password.length).toBeGreaterThanOrEqual(12);
    await platform.api().post('/v1/auth/login').send({ email, password }).expect(200);

    const row = page.locator(`tr[data-operator="${email}"]`);
    await row.waitFor(WAIT);
    await row.getByLabel(`Role of ${email}`).selectOption('sre');
    await row.getByRole('button', { name: 'Change role' }).click();
    await page.locator('#status-notice', { hasText: `${email} is now sre` }).waitFor(WAIT);
    const operators = await platform.api().get('/v1/operators').set(bootstrap()).expect(200);
    expect(
      (operators.body as { email: string; role: string }[]).find((o) => o.email === email)?.role,
    ).toBe('sre');

    await page
      .locator(`tr[data-key="${apiKey.prefix}"]`)
      .getByRole('button', { name: 'Revoke' })
      .click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.getByRole('heading').textContent()).toContain(apiKey.prefix);
    await dialog.getByRole('button', { name: 'Revoke key' }).click();
    await page.locator(`tr[data-key="${apiKey.prefix}"][data-status="revoked"]`).waitFor(WAIT);
    await platform.api().get('/v1/tenants').set('Authorization', `Bearer ${key}`).expect(401);
  });

  it('an SRE sees the version drift, dry-runs, then starts a run and follows it to the end', async () => {
    const page = await signIn('sre');
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Fleet (SRE)' })
      .click();
    await page.getByText('Latest template version').waitFor(WAIT);
    const start = page.getByRole('button', { name: 'Start run' });
    expect(await start.isDisabled()).toBe(true);

    await page.getByRole('button', { name: 'Dry run' }).click();
    await page.getByText(/Dry run to v\d+:/).waitFor(WAIT);
    expect(await start.isDisabled()).toBe(false);
    await start.click();

    const run = page.locator('tr[data-run][data-status="completed"]');
    await run.waitFor(WAIT);
    const runs = await platform.api().get('/v1/migration-runs').set(bootstrap()).expect(200);
    const [latest] = runs.body as { id: string; status: string; requestedBy: string }[];
    expect(latest).toMatchObject({
      status: 'completed',
      requestedBy: `operator:${accounts.sre.email}`,
    });
    expect(await run.getAttribute('data-run')).toBe(latest.id);
    await shot(page, 'sre');
  });
});
