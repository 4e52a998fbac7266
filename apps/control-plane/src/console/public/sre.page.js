// SRE: template-version drift across the fleet, migration runs with live progress (polled while
// any run is moving), and starting a run, which needs a dry run of the same target first.
import { api, can, queryString, seg } from './api.js';
import {
  alertNotice,
  badge,
  busy,
  card,
  cardHeading,
  confirmDialog,
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

const POLL_MS = 1500;
const RUNS_SHOWN = 10;
const MOVING = new Set(['running', 'paused']);

export function render(ctx) {
  const maySre = can(ctx.session.role, 'sre');
  const drift = h('div', null, loadingState('Loading fleet status…'));
  const runs = h('div', null, loadingState('Loading migration runs…'));
  const runsLive = h('p', { class: 'muted small', 'aria-live': 'polite', 'aria-atomic': 'true' });
  let pollTimer = null;
  let stopped = false;
  ctx.onDispose(() => {
    stopped = true;
    clearTimeout(pollTimer);
  });
  const get = (path) => api.get(path, { signal: ctx.signal });
  const ignoreAbort = (error) => error?.name === 'AbortError';

  // ---- drift ----

  async function loadStatus() {
    try {
      const status = await get('/v1/fleet/status');
      startForm?.setLatest(status.latestVersion);
      showStatus(status);
    } catch (error) {
      if (!ignoreAbort(error))
        fill(
          drift,
          errorState(error, () => void loadStatus()),
        );
    }
  }

  function showStatus(status) {
    const live = status.byVersion.filter((row) => row.status !== 'deleted');
    const behind = live
      .filter((row) => row.version < status.latestVersion)
      .reduce((n, row) => n + row.tenants, 0);
    const total = live.reduce((n, row) => n + row.tenants, 0);
    fill(
      drift,
      h(
        'p',
        { class: 'progress-summary' },
        h('span', null, 'Latest template version ', h('strong', null, `v${status.latestVersion}`)),
        total === 0
          ? h('span', { class: 'muted' }, 'No tenants yet.')
          : behind === 0
            ? badge('done', `${total} of ${total} schemas current`)
            : badge('suspended', `${behind} of ${total} schemas behind`),
      ),
      live.length === 0
        ? emptyState('No tenant schemas.')
        : h(
            'table',
            null,
            h('caption', { class: 'visually-hidden' }, 'Schemas by template version and status'),
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                h('th', { scope: 'col' }, 'Version'),
                h('th', { scope: 'col' }, 'Tenant status'),
                h('th', { scope: 'col', class: 'num' }, 'Schemas'),
              ),
            ),
            h(
              'tbody',
              null,
              live.map((row) =>
                h(
                  'tr',
                  null,
                  h(
                    'td',
                    null,
                    `v${row.version}`,
                    row.version < status.latestVersion
                      ? h(
                          'span',
                          { class: 'muted small' },
                          ` (${status.latestVersion - row.version} behind)`,
                        )
                      : null,
                  ),
                  h('td', null, badge(row.status)),
                  h('td', { class: 'num' }, String(row.tenants)),
                ),
              ),
            ),
          ),
      status.lastFailures.length > 0
        ? h(
            'div',
            { class: 'plan' },
            h('h3', null, 'Tenants whose last migration failed'),
            h(
              'table',
              null,
              h(
                'thead',
                null,
                h(
                  'tr',
                  null,
                  ['Tenant', 'Error', 'When'].map((l) => h('th', { scope: 'col' }, l)),
                ),
              ),
              h(
                'tbody',
                null,
                status.lastFailures.map((f) =>
                  h(
                    'tr',
                    null,
                    h(
                      'td',
                      null,
                      h('a', { href: `#/tenants/${encodeURIComponent(f.slug)}` }, f.slug),
                    ),
                    h('td', { class: 'small' }, f.error ?? '—'),
                    h('td', null, time(f.at)),
                  ),
                ),
              ),
            ),
          )
        : null,
    );
  }

  // ---- runs ----

  let views = new Map();

  async function loadRuns() {
    clearTimeout(pollTimer);
    try {
      const list = await get(`/v1/migration-runs${queryString({ limit: RUNS_SHOWN })}`);
      // Finished runs do not change: fetch their counts once, moving ones on every poll.
      const next = new Map();
      await Promise.all(
        list.map(async (run) => {
          const known = views.get(run.id);
          next.set(
            run.id,
            known && !MOVING.has(known.status) && known.status === run.status
              ? known
              : await get(`/v1/migration-runs/${seg(run.id)}`),
          );
        }),
      );
      views = next;
      showRuns(list.map((run) => views.get(run.id)));
      const moving = list.filter((run) => MOVING.has(run.status));
      runsLive.textContent =
        moving.length === 0
          ? ''
          : moving
              .map((run) => `Run ${run.id.slice(0, 8)}: ${progressText(views.get(run.id))}`)
              .join('. ');
      if (moving.some((run) => run.status === 'running') && !stopped)
        pollTimer = setTimeout(() => void loadRuns(), POLL_MS);
      else if (moving.length === 0) void loadStatus();
    } catch (error) {
      if (!ignoreAbort(error))
        fill(
          runs,
          errorState(error, () => void loadRuns()),
        );
    }
  }

  function showRuns(list) {
    if (list.length === 0) {
      fill(
        runs,
        emptyState(
          maySre
            ? 'No migration runs yet. Start one above after a dry run.'
            : 'No migration runs yet.',
        ),
      );
      return;
    }
    fill(
      runs,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          null,
          h('caption', { class: 'visually-hidden' }, 'Migration runs, newest first'),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              [
                'Run',
                'Target',
                'Status',
                'Progress',
                'Requested by',
                'Started',
                maySre ? 'Actions' : null,
              ]
                .filter(Boolean)
                .map((l) => h('th', { scope: 'col' }, l)),
            ),
          ),
          h('tbody', null, list.map(runRow)),
        ),
      ),
    );
  }

  function runRow(run) {
    const finished = run.counts.succeeded + run.counts.failed + run.counts.skipped;
    const buttons = [];
    if (maySre) {
      if (run.status === 'running') buttons.push(runAction(run, 'pause', 'Pause'));
      if (run.status === 'paused' || run.status === 'failed')
        buttons.push(runAction(run, 'resume', 'Resume'));
      if (MOVING.has(run.status) || run.status === 'failed')
        buttons.push(runAction(run, 'cancel', 'Cancel', 'danger'));
    }
    return h(
      'tr',
      { dataset: { run: run.id, status: run.status } },
      h('td', null, h('code', { title: run.id }, run.id.slice(0, 8))),
      h('td', null, `v${run.targetVersion}`),
      h(
        'td',
        null,
        badge(run.status),
        run.statusReason ? h('p', { class: 'small' }, run.statusReason) : null,
      ),
      h(
        'td',
        null,
        h('progress', {
          max: Math.max(run.total, 1),
          value: run.total === 0 ? 1 : finished,
          'aria-label': `Run ${run.id.slice(0, 8)} progress`,
        }),
        h('p', { class: 'small muted' }, progressText(run)),
        run.failures?.length
          ? h(
              'p',
              { class: 'small' },
              `Last failure: ${run.failures[0].slug}: ${run.failures[0].error ?? ''}`,
            )
          : null,
      ),
      h('td', { class: 'small' }, run.requestedBy),
      h('td', null, time(run.startedAt ?? run.createdAt)),
      maySre ? h('td', null, h('div', { class: 'row-actions' }, buttons)) : null,
    );
  }

  function runAction(run, action, label, extra = '') {
    const button = h('button', { type: 'button', class: `small-button ${extra}`.trim() }, label);
    button.addEventListener('click', async () => {
      if (action === 'cancel') {
        const ok = await confirmDialog({
          title: `Cancel run ${run.id.slice(0, 8)}?`,
          body: `Tenants not migrated yet are skipped; the ones done stay at v${run.targetVersion}.`,
          confirmLabel: 'Cancel run',
          danger: true,
        });
        if (!ok) return;
      }
      await busy(button, `${label}…`, async () => {
        try {
          await api.post(`/v1/migration-runs/${seg(run.id)}/${action}`);
          notify(`Run ${run.id.slice(0, 8)}: ${action} done.`);
          await loadRuns();
          const row = [...runs.querySelectorAll('tr[data-run]')].find(
            (tr) => tr.dataset.run === run.id,
          );
          refocus(row?.querySelector('button'), cardHeading(runs));
        } catch (error) {
          alertNotice(errorMessage(error));
        }
      });
    });
    return button;
  }

  // ---- start a run ----

  const startForm = maySre ? buildStartForm() : null;

  function buildStartForm() {
    const ids = {
      target: uid('target'),
      concurrency: uid('concurrency'),
      canary: uid('canary'),
      maxFailures: uid('max-failures'),
    };
    const target = h('input', { id: ids.target, type: 'number', min: 0, step: 1, required: true });
    const concurrency = h('input', {
      id: ids.concurrency,
      type: 'number',
      min: 1,
      max: 64,
      step: 1,
      value: '4',
    });
    const canary = h('input', {
      id: ids.canary,
      type: 'number',
      min: 0,
      max: 1000,
      step: 1,
      value: '0',
    });
    const maxFailures = h('input', {
      id: ids.maxFailures,
      type: 'number',
      min: 0,
      step: 1,
      placeholder: 'no limit',
    });
    const dryRun = h('button', { type: 'button' }, 'Dry run');
    const start = h('button', { type: 'submit', class: 'primary', disabled: true }, 'Start run');
    const plan = h(
      'div',
      { class: 'plan', 'aria-live': 'polite' },
      h(
        'p',
        { class: 'muted small' },
        'Start is enabled after a dry run of the same target version.',
      ),
    );
    const error = h('p', { class: 'form-error', role: 'alert' });
    let plannedFor = null;

    const fieldOf = (id, label, input) =>
      h('div', { class: 'inline-field' }, h('label', { for: id }, label), input);
    const form = h(
      'form',
      { novalidate: true, 'aria-label': 'Start a migration run' },
      h(
        'div',
        { class: 'form-row' },
        fieldOf(ids.target, 'Target version', target),
        fieldOf(ids.concurrency, 'Concurrency', concurrency),
        fieldOf(ids.canary, 'Canary tenants', canary),
        fieldOf(ids.maxFailures, 'Stop after failures', maxFailures),
        dryRun,
        start,
      ),
      error,
      plan,
    );

    target.addEventListener('input', () => {
      if (plannedFor !== null && target.value !== String(plannedFor)) {
        plannedFor = null;
        start.disabled = true;
        fill(plan, h('p', { class: 'muted small' }, 'The target changed: run the dry run again.'));
      }
    });

    const int = (input) => (input.value.trim() === '' ? undefined : Number(input.value));

    dryRun.addEventListener('click', () =>
      busy(dryRun, 'Planning…', async () => {
        error.textContent = '';
        const to = int(target);
        if (to === undefined || !Number.isInteger(to) || to < 0) {
          error.textContent = 'Target version must be a whole number ≥ 0.';
          target.focus();
          return;
        }
        try {
          const result = await get(`/v1/fleet/plan${queryString({ to })}`);
          plannedFor = to;
          start.disabled = false;
          showPlan(plan, result);
        } catch (failure) {
          if (!ignoreAbort(failure)) error.textContent = errorMessage(failure);
        }
      }),
    );

    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (plannedFor === null) return;
      void busy(start, 'Starting…', async () => {
        error.textContent = '';
        try {
          const body = { targetVersion: plannedFor, concurrency: int(concurrency) ?? 4 };
          if (int(canary)) body.canaryCount = int(canary);
          if (int(maxFailures) !== undefined) body.maxFailures = int(maxFailures);
          const run = await api.post('/v1/migration-runs', body);
          notify(
            `Run ${run.id.slice(0, 8)} started: ${run.total} tenants to v${run.targetVersion}.`,
          );
          plannedFor = null;
          fill(plan, h('p', { class: 'muted small' }, 'Run started; follow it below.'));
          await loadRuns();
        } catch (failure) {
          error.textContent = errorMessage(failure);
        } finally {
          start.disabled = plannedFor === null;
        }
      });
    });

    return {
      element: form,
      setLatest(version) {
        target.max = String(version);
        if (target.value === '') target.value = String(version);
      },
    };
  }

  void loadStatus();
  void loadRuns();

  return h(
    'section',
    null,
    h('div', { class: 'page-head' }, h('h1', null, 'Fleet (SRE)')),
    h(
      'div',
      { class: 'grid' },
      card('Template versions', drift, 'reserve-m'),
      maySre ? card('Start a migration run', startForm.element, 'reserve-m') : null,
      card('Migration runs', h('div', null, runsLive, runs), 'wide reserve-m'),
    ),
  );
}

function progressText(run) {
  if (!run) return '';
  const finished = run.counts.succeeded + run.counts.failed + run.counts.skipped;
  const parts = [`${finished} of ${run.total} tenants`];
  if (run.counts.failed) parts.push(`${run.counts.failed} failed`);
  if (run.counts.running) parts.push(`${run.counts.running} running`);
  if (run.canary.total) parts.push(`canary ${run.canary.succeeded}/${run.canary.total}`);
  return parts.join(' · ');
}

function showPlan(container, plan) {
  fill(
    container,
    h(
      'p',
      null,
      h('strong', null, `Dry run to v${plan.targetVersion}: `),
      `${plan.pending} of ${plan.tenants} schemas would change.`,
    ),
    plan.groups.length === 0
      ? null
      : h(
          'table',
          null,
          h('caption', { class: 'visually-hidden' }, 'Dry run by current version'),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ['From', 'Schemas', 'Migrations', 'For example'].map((l) =>
                h('th', { scope: 'col' }, l),
              ),
            ),
          ),
          h(
            'tbody',
            null,
            plan.groups.map((g) =>
              h(
                'tr',
                null,
                h('td', null, `v${g.fromVersion}`),
                h('td', { class: 'num' }, String(g.tenants)),
                h(
                  'td',
                  { class: 'small' },
                  g.migrations.length === 0
                    ? 'none (already there)'
                    : g.migrations
                        .map((m) => `${m.direction === 'down' ? '↓' : '↑'} ${m.version} ${m.name}`)
                        .join(', '),
                ),
                h('td', { class: 'small' }, g.sampleTenants.join(', ')),
              ),
            ),
          ),
        ),
  );
}
