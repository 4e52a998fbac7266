// The onboarding saga, live: one row per step (rendered up front from the pipeline's own list,
// so the list never grows or jumps), fed by the progress stream (server-sent events).
import { seg } from './api.js';
import { badge, fill, formatDuration, h } from './dom.js';
import { PROVISIONING_STEPS } from './rules.js';

/** Tenant statuses after which the progress stream ends. */
export const SETTLED = new Set(['active', 'failed', 'suspended', 'deleted']);

const STEP_LABELS = {
  'create-schema': 'Create schema',
  'apply-template': 'Apply template',
  'seed-lookups': 'Seed lookups',
  'storage-prefix': 'Storage prefix',
  'dns-record': 'DNS record',
  certificate: 'Certificate',
  'admin-invite': 'Admin invite',
  'welcome-mail': 'Welcome mail',
  activate: 'Activate',
};

/** The registry says `succeeded`; people say done. */
export function stepStatusLabel(status) {
  return status === 'succeeded' ? 'done' : status;
}

export function stepLabel(step) {
  return STEP_LABELS[step] ?? step.replaceAll('-', ' ');
}

/** The step list; `update(view)` takes a tenant view with `provisioningSteps`. */
export function stepList() {
  const rows = new Map();
  const list = h('ol', { class: 'steps', 'aria-label': 'Onboarding steps' });
  const addRow = (step) => {
    const status = h('span', null, badge('pending'));
    const detail = h('span', { class: 'step-detail' });
    const row = h(
      'li',
      { dataset: { step, status: 'pending' } },
      h('span', { class: 'step-name' }, stepLabel(step)),
      status,
      detail,
    );
    rows.set(step, { row, status, detail });
    list.append(row);
    return rows.get(step);
  };
  PROVISIONING_STEPS.forEach(addRow);

  function update(view) {
    for (const step of view.provisioningSteps ?? []) {
      const entry = rows.get(step.step) ?? addRow(step.step);
      entry.row.dataset.status = stepStatusLabel(step.status);
      entry.status.replaceChildren(
        badge(step.status === 'succeeded' ? 'done' : step.status, stepStatusLabel(step.status)),
      );
      fill(entry.detail, stepDetail(step));
    }
  }
  return { element: list, update };
}

/** What a step's row says beside its badge: attempts and time, or why it was skipped or failed. */
function stepDetail(step) {
  const attempts = step.attempts === 1 ? '1 attempt' : `${step.attempts} attempts`;
  switch (step.status) {
    case 'succeeded':
      return `${attempts} · ${formatDuration(step.durationMs ?? 0)}`;
    case 'skipped':
      return step.lastError ?? 'not needed';
    case 'failed':
      return h(
        'span',
        { class: 'error' },
        `failed after ${attempts}: ${step.lastError ?? 'no reason recorded'}`,
      );
    case 'running':
      return step.lastError
        ? h(
            'span',
            { class: 'error' },
            `retrying (attempt ${step.attempts + 1}); last error: ${step.lastError}`,
          )
        : 'running…';
    default:
      return '';
  }
}

/** One sentence on where onboarding stands, for the live region. */
export function progressSentence(view) {
  const steps = view.provisioningSteps ?? [];
  const finished = steps.filter((s) => s.status === 'succeeded' || s.status === 'skipped').length;
  const running = steps.find((s) => s.status === 'running');
  const failed = steps.find((s) => s.status === 'failed');
  if (view.status === 'active')
    return `${view.slug} is active: ${finished} of ${steps.length} steps done or skipped.`;
  if (view.status === 'failed') {
    return `Onboarding ${view.slug} failed${failed ? ` at ${stepLabel(failed.step)}: ${failed.lastError ?? 'no reason recorded'}` : ''}${view.statusReason && !failed ? `: ${view.statusReason}` : ''}.`;
  }
  if (view.status !== 'provisioning') return `${view.slug} is ${view.status}.`;
  return `${finished} of ${steps.length} steps finished${running ? `; running ${stepLabel(running.step)}` : ''}.`;
}

/**
 * Follows a tenant's progress stream. `onView` gets every tenant view; the stream is closed
 * once the tenant settles (the server ends it then, and EventSource would otherwise reconnect).
 * `onLost` is called when the stream cannot be (re)opened. Returns a function that stops it.
 */
export function followProgress(idOrSlug, { onView, onLost }) {
  const source = new EventSource(`/v1/tenants/${seg(idOrSlug)}/progress`);
  source.addEventListener('progress', (event) => {
    const view = JSON.parse(event.data);
    onView(view);
    if (SETTLED.has(view.status)) source.close();
  });
  source.addEventListener('error', () => {
    // CONNECTING: the browser is already retrying (a dropped connection); CLOSED: it gave up
    // (a 401/404 answer, or the server is down).
    if (source.readyState === EventSource.CLOSED) onLost?.();
  });
  return () => source.close();
}
