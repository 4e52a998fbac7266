// Onboard a tenant: a form with inline validation (the API's own rules, then its 400 details
// next to the fields), and after submitting, every saga step live from the progress stream.
import { api, ApiError, can, newIdempotencyKey, seg } from './api.js';
import { badge, busy, errorState, field, fill, h, loadingState, notify } from './dom.js';
import { PLANS, PLATFORM_DOMAIN } from './rules.js';
import { followProgress, progressSentence, stepList } from './steps.js';
import { emailProblem, hostnameProblem, nameProblem, slugProblem } from './validation.js';

export function render(ctx) {
  if (!can(ctx.session.role, 'ops')) return notAllowed(ctx);
  return ctx.params[0] ? renderProgress(ctx, ctx.params[0]) : renderForm(ctx);
}

function notAllowed(ctx) {
  return h(
    'section',
    null,
    h('div', { class: 'page-head' }, h('h1', null, 'Onboard tenant')),
    h(
      'p',
      { class: 'state state--forbidden', role: 'alert' },
      `Not allowed: onboarding needs the ops role; you are ${ctx.session.role}.`,
    ),
  );
}

/** Field name in the API's 400 details → the form's field name. */
const FIELDS = ['slug', 'name', 'adminEmail', 'plan', 'customDomain'];

function renderForm(ctx) {
  const slug = field({
    label: 'Slug',
    name: 'slug',
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
    hint: `3–40 lower-case letters, digits and hyphens. The tenant is served at <slug>.${PLATFORM_DOMAIN}.`,
    'data-autofocus': true,
  });
  const name = field({ label: 'Name', name: 'name', required: true, autocomplete: 'organization' });
  const adminEmail = field({
    label: 'Admin e-mail',
    name: 'adminEmail',
    type: 'email',
    required: true,
    autocomplete: 'off',
    hint: 'Receives the welcome mail with the invite link.',
  });
  const plan = field({
    label: 'Plan',
    name: 'plan',
    required: true,
    input: h(
      'select',
      { value: 'free' },
      PLANS.map((p) => h('option', { value: p }, p)),
    ),
  });
  const customDomain = field({
    label: 'Custom domain',
    name: 'customDomain',
    autocomplete: 'off',
    spellcheck: 'false',
    hint: 'e.g. app.acme.com — its DNS records are shown on the tenant page.',
  });
  const fields = { slug, name, adminEmail, plan, customDomain };
  const checks = {
    slug: () => slugProblem(slug.control.value),
    name: () => nameProblem(name.control.value),
    adminEmail: () => emailProblem(adminEmail.control.value.trim()),
    customDomain: () => hostnameProblem(customDomain.control.value.trim()),
  };
  const touched = new Set();
  for (const [key, check] of Object.entries(checks)) {
    const { control, setError } = fields[key];
    // Judge a field once the user has left it, then as they fix it: no error while typing the
    // first characters of a fresh field.
    control.addEventListener('blur', () => {
      if (control.value !== '') touched.add(key);
      if (touched.has(key)) setError(check());
    });
    control.addEventListener('input', () => {
      if (touched.has(key)) setError(check());
    });
  }

  const formError = h('p', { class: 'form-error span', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Onboard tenant');
  const form = h(
    'form',
    { class: 'form-grid', novalidate: true, 'aria-labelledby': 'onboard-title' },
    Object.values(fields).map((f) => f.wrapper),
    formError,
    h('div', { class: 'form-actions span' }, submit, h('a', { href: '#/tenants' }, 'Cancel')),
  );

  // One key per body: a double submit or a retry after a timeout creates the tenant once; a
  // changed body after a refusal is a new request.
  let lastBody = null;
  let key = null;

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    formError.textContent = '';
    const problems = Object.entries(checks)
      .map(([k, check]) => {
        touched.add(k);
        const problem = check();
        fields[k].setError(problem);
        return problem ? k : null;
      })
      .filter(Boolean);
    if (problems.length > 0) {
      formError.textContent =
        problems.length === 1
          ? 'Fix the field marked above.'
          : `Fix the ${problems.length} fields marked above.`;
      fields[problems[0]].control.focus();
      return;
    }
    const body = {
      slug: slug.control.value,
      name: name.control.value.trim(),
      adminEmail: adminEmail.control.value.trim(),
      plan: plan.control.value,
      ...(customDomain.control.value.trim() && { customDomain: customDomain.control.value.trim() }),
    };
    const serialized = JSON.stringify(body);
    if (serialized !== lastBody) {
      lastBody = serialized;
      key = newIdempotencyKey();
    }
    await busy(submit, 'Onboarding…', async () => {
      try {
        const tenant = await api.post('/v1/tenants', body, { headers: { 'Idempotency-Key': key } });
        notify(`${tenant.slug} created; onboarding started.`);
        ctx.navigate(`#/onboard/${encodeURIComponent(tenant.slug)}`);
      } catch (error) {
        showApiProblem(error, fields, formError);
      }
    });
  });

  return h(
    'section',
    null,
    h('div', { class: 'page-head' }, h('h1', { id: 'onboard-title' }, 'Onboard tenant')),
    h('div', { class: 'card' }, form),
  );
}

/** The API's refusal, where it belongs: per field when it names one, else above the button. */
function showApiProblem(error, fields, formError) {
  if (!(error instanceof ApiError)) {
    formError.textContent = String(error);
    return;
  }
  const byField = new Map();
  for (const detail of error.details) {
    if (FIELDS.includes(detail.field) && !byField.has(detail.field))
      byField.set(detail.field, detail.message);
  }
  if (error.code === 'slug_taken') byField.set('slug', error.message);
  if (error.code === 'hostname_taken' || error.code === 'invalid_custom_domain')
    byField.set('customDomain', error.message);
  for (const [name, message] of byField) fields[name].setError(message);
  if (byField.size > 0) {
    formError.textContent = `The API refused: ${error.message}`;
    fields[[...byField.keys()][0]].control.focus();
  } else {
    formError.textContent = error.status === 403 ? `Not allowed: ${error.message}` : error.message;
  }
}

function renderProgress(ctx, slug) {
  const title = h('h1', null, `Onboarding ${slug}`);
  const status = h('span', { class: 'tenant-status' }, badge('provisioning', 'loading…'));
  const live = h('p', { class: 'muted', 'aria-live': 'polite', 'aria-atomic': 'true' });
  const steps = stepList();
  const failure = h('div', { class: 'reserve-s', hidden: true });
  const actions = h(
    'div',
    { class: 'actions' },
    h('a', { href: `#/tenants/${encodeURIComponent(slug)}`, class: 'button' }, 'Open tenant page'),
  );
  const feedState = h('div');
  let stop = null;

  function onView(view) {
    title.textContent = `Onboarding ${view.name}`;
    status.replaceChildren(badge(view.status, view.status, 'badge--large'));
    status.dataset.status = view.status;
    live.textContent = progressSentence(view);
    steps.update(view);
    fill(feedState);
    showFailure(view);
  }

  function showFailure(view) {
    failure.hidden = view.status !== 'failed';
    if (view.status !== 'failed') return fill(failure);
    const retry = h('button', { type: 'button', class: 'primary' }, 'Retry from the failed step');
    retry.addEventListener('click', () =>
      busy(retry, 'Retrying…', async () => {
        try {
          await api.post(`/v1/tenants/${seg(view.id)}/retry`);
          notify(`Retrying ${view.slug}.`);
          follow();
        } catch (error) {
          fill(feedState, errorState(error));
        }
      }),
    );
    fill(
      failure,
      h(
        'p',
        { class: 'state state--error' },
        `Onboarding stopped: ${view.statusReason ?? 'a step failed'}.`,
      ),
      can(ctx.session.role, 'ops') ? h('div', { class: 'form-actions' }, retry) : null,
    );
  }

  function follow() {
    stop?.();
    stop = followProgress(slug, {
      onView,
      onLost: () =>
        fill(
          feedState,
          errorState(
            new Error(
              'The live progress feed stopped (the tenant may not exist, or the control plane is unreachable).',
            ),
            follow,
          ),
        ),
    });
  }
  ctx.onDispose(() => stop?.());
  fill(feedState, loadingState('Connecting to the progress feed…'));
  follow();

  return h(
    'section',
    null,
    h('div', { class: 'page-head' }, title, status, actions),
    h(
      'div',
      { class: 'card' },
      h('div', { class: 'progress-summary' }, h('h2', null, 'Saga steps'), live),
      feedState,
      steps.element,
      failure,
    ),
  );
}
