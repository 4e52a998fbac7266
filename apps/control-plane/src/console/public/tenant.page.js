// One tenant: facts, lifecycle actions (behind confirmations that name the tenant), saga steps
// (live while provisioning), domains with the DNS records to publish, certificates, mail, users and
// the audit trail. Each section loads on its own, in space reserved for it.
import { api, ApiError, can, queryString, seg } from './api.js';
import {
  alertNotice,
  badge,
  busy,
  card,
  cardHeading,
  confirmDialog,
  daysUntil,
  emptyState,
  errorMessage,
  errorState,
  fill,
  h,
  loadingState,
  notify,
  refocus,
  time,
  uid,
} from './dom.js';
import { followProgress, progressSentence, SETTLED, stepList } from './steps.js';

const AUDIT_PAGE = 10;
const DOMAIN_POLL_MS = 3000;
const DOMAIN_MOVING = new Set(['pending_verification', 'verified']);

export function render(ctx) {
  const idOrSlug = ctx.params[0];
  const mayOps = can(ctx.session.role, 'ops');
  const title = h('h1', null, idOrSlug);
  const subtitle = h('span', { class: 'subtitle mono' });
  const statusBox = h('span', { class: 'tenant-status' });
  const actions = h('div', { class: 'actions', role: 'group', 'aria-label': 'Tenant actions' });
  const overview = h('dl', { class: 'facts' });
  const overviewBody = h('div', null, loadingState());
  const live = h('p', { class: 'muted small', 'aria-live': 'polite', 'aria-atomic': 'true' });
  const steps = stepList();
  const domains = h('div', null, loadingState('Loading domains…'));
  const certificates = h('div', null, loadingState('Loading certificates…'));
  const mail = h('div', null, loadingState('Loading mail…'));
  const users = h('div', null, loadingState('Loading users…'));
  const audit = h('div', null, loadingState('Loading audit entries…'));
  const page = h('div', { class: 'grid' });
  let tenant = null;
  let stopFeed = null;
  ctx.onDispose(() => stopFeed?.());

  const get = (path) => api.get(path, { signal: ctx.signal });
  const ignoreAbort = (error) => error?.name === 'AbortError';

  async function loadTenant() {
    try {
      showTenant(await get(`/v1/tenants/${seg(idOrSlug)}`));
    } catch (error) {
      if (ignoreAbort(error)) return;
      if (error instanceof ApiError && error.status === 404) {
        fill(
          page,
          h(
            'div',
            { class: 'wide' },
            emptyState(
              `No tenant has the id or slug “${idOrSlug}”.`,
              h('a', { href: '#/tenants' }, 'Back to the tenants'),
            ),
          ),
        );
        return;
      }
      fill(
        overviewBody,
        errorState(error, () => void loadTenant()),
      );
    }
  }

  function showTenant(view) {
    const first = tenant === null;
    tenant = view;
    title.textContent = view.name;
    subtitle.textContent = view.slug;
    statusBox.replaceChildren(badge(view.status, view.status, 'badge--large'));
    statusBox.dataset.status = view.status;
    fill(
      overview,
      fact(
        'Status',
        view.statusReason ? [badge(view.status), ` ${view.statusReason}`] : badge(view.status),
      ),
      fact('Plan', view.plan),
      fact('Admin e-mail', view.adminEmail),
      fact('Schema', h('code', null, view.schema)),
      fact('Cluster', view.cluster),
      fact('Template version', `v${view.templateVersion}`),
      fact('Tenant id', h('code', null, view.id)),
      fact('Created', time(view.createdAt)),
      view.activatedAt ? fact('Activated', time(view.activatedAt)) : null,
      view.status === 'suspended' && view.suspendedAt
        ? fact('Suspended', time(view.suspendedAt))
        : null,
      view.deletedAt ? fact('Deleted', time(view.deletedAt)) : null,
    );
    fill(overviewBody, overview);
    steps.update(view);
    live.textContent = progressSentence(view);
    renderActions();
    if (first) {
      loadDomains();
      loadCertificates();
      loadMail();
      loadUsers();
      loadAudit(true);
    }
    if (!SETTLED.has(view.status) && !stopFeed) follow();
  }

  function follow() {
    stopFeed = followProgress(tenant.id, {
      onView: (view) => {
        const settled = SETTLED.has(view.status) && !SETTLED.has(tenant.status);
        showTenant(view);
        if (settled) {
          stopFeed?.();
          stopFeed = null;
          notify(progressSentence(view));
          loadDomains();
          loadMail();
          loadUsers();
          loadAudit(true);
        }
      },
      onLost: () => {
        stopFeed = null;
        live.textContent = 'The live progress feed stopped; reload the page to see the latest.';
      },
    });
  }

  // ---- lifecycle actions ----

  function renderActions() {
    if (!mayOps) {
      actions.replaceChildren();
      return;
    }
    const { status, slug } = tenant;
    const buttons = [];
    if (status === 'active') buttons.push(actionButton('Suspend', () => suspend()));
    if (status === 'suspended') buttons.push(actionButton('Resume', () => resume()));
    if (status === 'failed')
      buttons.push(actionButton('Retry onboarding', () => move('retry', `Retrying ${slug}.`)));
    if (status === 'active')
      buttons.push(actionButton('Resend welcome mail', () => resendWelcome()));
    if (status !== 'deleted' && status !== 'deleting') {
      buttons.push(actionButton('Delete', () => remove(), 'danger'));
    }
    actions.replaceChildren(...buttons);
    refocus(buttons[0], title);
  }

  function actionButton(label, onClick, extra = '') {
    const button = h('button', { type: 'button', class: extra }, label);
    button.addEventListener('click', () => onClick(button));
    return button;
  }

  async function suspend() {
    const ok = await confirmDialog({
      title: `Suspend ${tenant.name}?`,
      body: `${tenant.name} (${tenant.slug}) stops being served at once: its users get “suspended” until you resume it. Nothing is deleted.`,
      confirmLabel: `Suspend ${tenant.slug}`,
    });
    if (ok) await move('suspend', `${tenant.slug} suspended.`);
  }

  async function resume() {
    const ok = await confirmDialog({
      title: `Resume ${tenant.name}?`,
      body: `${tenant.name} (${tenant.slug}) is served again at once.`,
      confirmLabel: `Resume ${tenant.slug}`,
    });
    if (ok) await move('resume', `${tenant.slug} resumed.`);
  }

  async function remove() {
    const ok = await confirmDialog({
      title: `Delete ${tenant.name}?`,
      body: `${tenant.name} (${tenant.slug}) stops being served and its hostnames are freed. The schema is kept for a restore; the slug stays reserved.`,
      confirmLabel: `Delete ${tenant.slug}`,
      danger: true,
      requireText: tenant.slug,
    });
    if (!ok) return;
    try {
      await api.delete(`/v1/tenants/${seg(tenant.id)}`);
      notify(`${tenant.slug} deleted.`);
      ctx.navigate('#/tenants');
    } catch (error) {
      alertNotice(errorMessage(error));
    }
  }

  async function move(action, done) {
    try {
      const view = await api.post(`/v1/tenants/${seg(tenant.id)}/${action}`);
      notify(done);
      showTenant(await get(`/v1/tenants/${seg(view.id)}`));
      loadAudit(true);
    } catch (error) {
      if (!ignoreAbort(error)) alertNotice(errorMessage(error));
    }
  }

  async function resendWelcome() {
    const ok = await confirmDialog({
      title: `Resend the welcome mail to ${tenant.adminEmail}?`,
      body: `A new invite link for ${tenant.name} (${tenant.slug}) goes out; older unused links stop working.`,
      confirmLabel: 'Resend',
    });
    if (!ok) return;
    try {
      await api.post(`/v1/tenants/${seg(tenant.id)}/welcome-mail`);
      notify(`Welcome mail queued for ${tenant.adminEmail}.`);
      loadMail();
      loadAudit(true);
    } catch (error) {
      alertNotice(errorMessage(error));
    }
  }

  // ---- domains ----

  // A domain on its way (DNS being checked, certificate being ordered) is polled, so its status
  // and the verifier's reason appear without a reload.
  let domainTimer = null;
  ctx.onDispose(() => clearTimeout(domainTimer));

  async function loadDomains() {
    clearTimeout(domainTimer);
    try {
      const list = await get(`/v1/tenants/${seg(tenant.id)}/domains`);
      showDomains(list);
      if (list.some((d) => DOMAIN_MOVING.has(d.status))) {
        domainTimer = setTimeout(() => void loadDomains(), DOMAIN_POLL_MS);
      }
    } catch (error) {
      if (ignoreAbort(error)) return;
      domainsReady = false;
      domainsShown = null;
      fill(
        domains,
        errorState(error, () => void loadDomains()),
      );
    }
  }

  const domainsTable = h('div', { class: 'table-wrap' });
  let domainsShown = null;
  let domainsReady = false;

  function showDomains(list) {
    const table =
      list.length === 0
        ? emptyState('No hostnames.')
        : h(
            'table',
            null,
            h('caption', { class: 'visually-hidden' }, 'Domains'),
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                ['Hostname', 'Kind', 'Status', 'DNS records to create', ''].map((l) =>
                  h('th', { scope: 'col' }, l),
                ),
              ),
            ),
            h('tbody', null, list.map(domainRow)),
          );
    const shown = JSON.stringify(list);
    if (shown === domainsShown) return;
    domainsShown = shown;
    // A refresh must not throw keyboard focus away: back to the same row's same button, or to
    // the section's heading when that row is gone.
    const focused = domainsTable.contains(document.activeElement) ? document.activeElement : null;
    const focusKey = focused && [focused.closest('tr')?.dataset.hostname, focused.textContent];
    fill(domainsTable, table);
    if (focusKey) {
      const same = [...domainsTable.querySelectorAll('tr[data-hostname] button')].find(
        (b) => b.closest('tr').dataset.hostname === focusKey[0] && b.textContent === focusKey[1],
      );
      refocus(same, cardHeading(domains));
    }
    if (!domainsReady) {
      domainsReady = true;
      fill(domains, domainsTable, mayOps && tenant.status !== 'deleted' ? addDomainForm() : null);
    }
  }

  function domainRow(domain) {
    const buttons = [];
    if (mayOps && domain.kind === 'custom') {
      buttons.push(
        actionButton(
          'Verify now',
          (button) =>
            busy(button, 'Checking…', async () => {
              try {
                await api.post(
                  `/v1/tenants/${seg(tenant.id)}/domains/${seg(domain.hostname)}/verify`,
                );
                notify(`Checking ${domain.hostname} again.`);
                await loadDomains();
              } catch (error) {
                alertNotice(errorMessage(error));
              }
            }),
          'small-button',
        ),
        actionButton(
          'Remove',
          async () => {
            const ok = await confirmDialog({
              title: `Remove ${domain.hostname}?`,
              body: `${tenant.name} (${tenant.slug}) stops being served at ${domain.hostname}.`,
              confirmLabel: 'Remove domain',
              danger: true,
            });
            if (!ok) return;
            try {
              await api.delete(`/v1/tenants/${seg(tenant.id)}/domains/${seg(domain.hostname)}`);
              notify(`${domain.hostname} removed.`);
              await loadDomains();
              loadAudit(true);
            } catch (error) {
              alertNotice(errorMessage(error));
            }
          },
          'small-button danger',
        ),
      );
    }
    return h(
      'tr',
      { dataset: { hostname: domain.hostname } },
      h('td', null, h('code', null, domain.hostname)),
      h('td', null, domain.kind),
      h(
        'td',
        null,
        badge(domain.status),
        domain.verificationError ? h('p', { class: 'small' }, domain.verificationError) : null,
        domain.lastCheckedAt
          ? h('p', { class: 'small muted' }, 'Checked ', time(domain.lastCheckedAt))
          : null,
      ),
      h(
        'td',
        null,
        domain.records?.length
          ? recordsTable(domain.records)
          : h(
              'span',
              { class: 'muted' },
              domain.kind === 'subdomain' ? 'none (platform DNS)' : '—',
            ),
      ),
      h('td', null, h('div', { class: 'row-actions' }, buttons)),
    );
  }

  function recordsTable(records) {
    return h(
      'table',
      { class: 'records' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ['Type', 'Name', 'Value'].map((l) => h('th', { scope: 'col' }, l)),
        ),
      ),
      h(
        'tbody',
        null,
        records.map((r) =>
          h(
            'tr',
            null,
            h('td', null, r.type),
            h('td', null, h('code', null, r.name)),
            h('td', null, h('code', null, r.value)),
          ),
        ),
      ),
    );
  }

  function addDomainForm() {
    const id = uid('hostname');
    const errorId = `${id}-error`;
    const input = h('input', {
      id,
      name: 'hostname',
      autocomplete: 'off',
      spellcheck: 'false',
      placeholder: 'app.example.com',
      'aria-describedby': errorId,
    });
    const error = h('p', { class: 'form-error small', id: errorId, 'aria-live': 'polite' });
    const submit = h('button', { type: 'submit' }, 'Add domain');
    const form = h(
      'form',
      { class: 'form-row', novalidate: true, 'aria-label': 'Add a custom domain' },
      h('div', { class: 'inline-field' }, h('label', { for: id }, 'Custom domain'), input),
      submit,
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const hostname = input.value.trim();
      if (!hostname) {
        error.textContent = 'Enter a hostname such as app.example.com';
        input.setAttribute('aria-invalid', 'true');
        input.focus();
        return;
      }
      void busy(submit, 'Adding…', async () => {
        try {
          const added = await api.post(`/v1/tenants/${seg(tenant.id)}/domains`, { hostname });
          notify(`${added.hostname} added: publish its records, then verify.`);
          input.value = '';
          error.textContent = '';
          input.removeAttribute('aria-invalid');
          await loadDomains();
          loadAudit(true);
        } catch (failure) {
          error.textContent =
            failure instanceof ApiError
              ? (failure.details[0]?.message ?? failure.message)
              : String(failure);
          input.setAttribute('aria-invalid', 'true');
          input.focus();
        }
      });
    });
    return h('div', { class: 'plan' }, form, error);
  }

  // ---- certificates ----

  async function loadCertificates() {
    try {
      const list = await get(`/v1/tenants/${seg(tenant.id)}/certificates`);
      if (list.length === 0) {
        fill(
          certificates,
          emptyState(
            'No certificates yet. The platform wildcard appears once ACME is on (ACME_DIRECTORY_URL); a custom domain gets its own after verification.',
          ),
        );
        return;
      }
      fill(
        certificates,
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            null,
            h('caption', { class: 'visually-hidden' }, 'Certificates'),
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                ['Subject', 'Covers', 'Status', 'Expires'].map((l) => h('th', { scope: 'col' }, l)),
              ),
            ),
            h(
              'tbody',
              null,
              list.map((cert) =>
                h(
                  'tr',
                  null,
                  h(
                    'td',
                    null,
                    h('code', null, cert.subject),
                    h(
                      'p',
                      { class: 'small muted' },
                      cert.scope === 'platform' ? 'platform wildcard' : 'custom domain',
                    ),
                  ),
                  h('td', { class: 'small' }, cert.names.join(', ')),
                  h(
                    'td',
                    null,
                    badge(cert.status),
                    cert.lastError ? h('p', { class: 'small' }, cert.lastError) : null,
                  ),
                  h(
                    'td',
                    null,
                    cert.notAfter
                      ? [
                          time(cert.notAfter, { dateOnly: true }),
                          h(
                            'p',
                            { class: `small ${daysUntil(cert.notAfter) < 14 ? '' : 'muted'}` },
                            expiryText(cert.notAfter),
                          ),
                        ]
                      : '—',
                  ),
                ),
              ),
            ),
          ),
        ),
      );
    } catch (error) {
      if (!ignoreAbort(error))
        fill(
          certificates,
          errorState(error, () => void loadCertificates()),
        );
    }
  }

  // ---- mail ----

  async function loadMail() {
    try {
      const list = await get(`/v1/tenants/${seg(tenant.id)}/mail`);
      if (list.length === 0) {
        fill(mail, emptyState('No mail for this tenant. Mail is off unless MAIL_PROVIDER is set.'));
        return;
      }
      fill(
        mail,
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            null,
            h('caption', { class: 'visually-hidden' }, 'Mail'),
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                ['Mail', 'To', 'Status', 'Sent'].map((l) => h('th', { scope: 'col' }, l)),
              ),
            ),
            h(
              'tbody',
              null,
              list.map((m) =>
                h(
                  'tr',
                  null,
                  h('td', null, m.subject ?? m.kind, h('p', { class: 'small muted' }, m.kind)),
                  h('td', null, m.recipient),
                  h(
                    'td',
                    null,
                    badge(m.status),
                    m.attempts > 1
                      ? h('p', { class: 'small muted' }, `${m.attempts} attempts`)
                      : null,
                    m.lastError ? h('p', { class: 'small' }, m.lastError) : null,
                  ),
                  h(
                    'td',
                    null,
                    m.sentAt ? time(m.sentAt) : h('span', { class: 'muted' }, 'not yet'),
                  ),
                ),
              ),
            ),
          ),
        ),
      );
    } catch (error) {
      if (!ignoreAbort(error))
        fill(
          mail,
          errorState(error, () => void loadMail()),
        );
    }
  }

  // ---- users ----

  async function loadUsers() {
    try {
      const list = await get(`/v1/tenants/${seg(tenant.id)}/users`);
      if (list.length === 0) {
        fill(
          users,
          emptyState('No users yet. The admin is invited once onboarding reaches that step.'),
        );
        return;
      }
      fill(
        users,
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            null,
            h('caption', { class: 'visually-hidden' }, 'Users'),
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                ['E-mail', 'Role', 'Sign-in'].map((l) => h('th', { scope: 'col' }, l)),
              ),
            ),
            h(
              'tbody',
              null,
              list.map((u) =>
                h(
                  'tr',
                  null,
                  h('td', null, u.email),
                  h('td', null, u.role),
                  h(
                    'td',
                    null,
                    u.passwordSet
                      ? badge('active')
                      : u.inviteExpiresAt
                        ? h('span', null, 'invited, link expires ', time(u.inviteExpiresAt))
                        : h('span', { class: 'muted' }, 'invite expired'),
                  ),
                ),
              ),
            ),
          ),
        ),
      );
    } catch (error) {
      if (!ignoreAbort(error))
        fill(
          users,
          errorState(error, () => void loadUsers()),
        );
    }
  }

  // ---- audit ----

  let auditOffset = 0;
  let auditBody = null;

  async function loadAudit(reset) {
    if (reset) auditOffset = 0;
    try {
      const result = await get(
        `/v1/tenants/${seg(tenant.id)}/audit${queryString({ limit: AUDIT_PAGE, offset: auditOffset })}`,
      );
      if (reset || !auditBody) {
        if (result.total === 0) {
          auditBody = null;
          fill(audit, emptyState('No audit entries.'));
          return;
        }
        auditBody = h('tbody');
        fill(
          audit,
          h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              null,
              h('caption', { class: 'visually-hidden' }, 'Audit entries, newest first'),
              h(
                'thead',
                null,
                h(
                  'tr',
                  null,
                  ['When', 'Who', 'Action', 'Change', 'From'].map((l) =>
                    h('th', { scope: 'col' }, l),
                  ),
                ),
              ),
              auditBody,
            ),
          ),
        );
      }
      auditBody.append(...result.items.map(auditRow));
      auditOffset += result.items.length;
      audit.querySelector('.pagination')?.remove();
      const more = h('button', { type: 'button' }, 'Show older entries');
      more.addEventListener('click', () => busy(more, 'Loading…', () => loadAudit(false)));
      audit.append(
        h(
          'div',
          { class: 'pagination' },
          h('span', { class: 'summary' }, `${auditOffset} of ${result.total} entries`),
          auditOffset < result.total ? more : null,
        ),
      );
    } catch (error) {
      if (!ignoreAbort(error))
        fill(
          audit,
          errorState(error, () => void loadAudit(true)),
        );
    }
  }

  void loadTenant();

  fill(
    page,
    card('Overview', overviewBody, 'reserve-m'),
    card('Certificates', certificates, 'reserve-m'),
    card('Domains', domains, 'wide reserve-s'),
    card('Onboarding steps', h('div', null, live, steps.element), ''),
    card('Mail', mail, 'reserve-s'),
    card('Users', users, 'reserve-s'),
    card('Audit entries', audit, 'wide reserve-m'),
  );

  return h(
    'section',
    null,
    h('p', { class: 'small' }, h('a', { href: '#/tenants' }, '← Tenants')),
    h('div', { class: 'page-head' }, title, subtitle, statusBox, actions),
    page,
  );
}

function fact(label, value) {
  return [h('dt', null, label), h('dd', null, value)];
}

function expiryText(notAfter) {
  const days = daysUntil(notAfter);
  if (days < 0) return 'expired';
  if (days === 0) return 'expires today';
  return `in ${days} day${days === 1 ? '' : 's'}`;
}

function auditRow(entry) {
  return h(
    'tr',
    { dataset: { action: entry.action } },
    h('td', null, time(entry.createdAt)),
    h('td', null, entry.actor),
    h('td', null, h('code', null, entry.action)),
    h('td', { class: 'small' }, changeSummary(entry)),
    h('td', { class: 'small muted' }, [entry.source, entry.ip].filter(Boolean).join(' · ') || '—'),
  );
}

/** "status: active → suspended", or the fields a creation set; details when nothing else. */
function changeSummary(entry) {
  const before = entry.before ?? {};
  const after = entry.after ?? {};
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const changes = keys
    .filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]))
    .map((key) => {
      if (!(key in before)) return `${key}: ${short(after[key])}`;
      if (!(key in after)) return `${key}: ${short(before[key])} → (removed)`;
      return `${key}: ${short(before[key])} → ${short(after[key])}`;
    });
  if (changes.length > 0)
    return (
      changes.slice(0, 4).join('; ') + (changes.length > 4 ? ` (+${changes.length - 4} more)` : '')
    );
  const details =
    entry.details && Object.keys(entry.details).length > 0 ? JSON.stringify(entry.details) : '';
  return details.length > 120 ? `${details.slice(0, 117)}…` : details || '—';
}

function short(value) {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text && text.length > 40 ? `${text.slice(0, 37)}…` : String(text);
}
