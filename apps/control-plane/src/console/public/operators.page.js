// Operators (admins only): create accounts (the one-time password is shown once), change roles,
// disable, and list or revoke API keys. Other roles see a "not allowed" page; the API would
// answer 403 anyway.
import { api, ApiError, can, seg } from './api.js';
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
  field,
  fill,
  h,
  loadingState,
  notify,
  refocus,
  time,
  uid,
} from './dom.js';
import { OPERATOR_ROLES } from './rules.js';
import { emailProblem } from './validation.js';

export function render(ctx) {
  if (!can(ctx.session.role, 'admin')) {
    return h(
      'section',
      null,
      h('div', { class: 'page-head' }, h('h1', null, 'Operators')),
      h(
        'p',
        { class: 'state state--forbidden', role: 'alert', dataset: { state: 'not-allowed' } },
        `Not allowed: only admins manage operators and API keys. You are signed in as ${ctx.session.role}.`,
      ),
    );
  }

  const operators = h('div', null, loadingState('Loading operators…'));
  const keys = h('div', null, loadingState('Loading API keys…'));
  const get = (path) => api.get(path, { signal: ctx.signal });
  const ignoreAbort = (error) => error?.name === 'AbortError';
  const me = ctx.session.operator?.id;

  // ---- operators ----

  async function loadOperators() {
    try {
      showOperators(await get('/v1/operators'));
    } catch (error) {
      if (!ignoreAbort(error))
        fill(
          operators,
          errorState(error, () => void loadOperators()),
        );
    }
  }

  function showOperators(list) {
    if (list.length === 0) return fill(operators, emptyState('No operators.'));
    fill(
      operators,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          null,
          h('caption', { class: 'visually-hidden' }, 'Operators'),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ['Operator', 'Role', 'Status', 'Last sign-in', 'Actions'].map((l) =>
                h('th', { scope: 'col' }, l),
              ),
            ),
          ),
          h('tbody', null, list.map(operatorRow)),
        ),
      ),
    );
  }

  function operatorRow(operator) {
    const roleId = uid('role');
    const role = h(
      'select',
      { id: roleId, value: operator.role },
      OPERATOR_ROLES.map((r) => h('option', { value: r }, r)),
    );
    const apply = h('button', { type: 'button', class: 'small-button' }, 'Change role');
    apply.addEventListener('click', () => {
      if (role.value === operator.role) {
        notify(`${operator.email} is already ${operator.role}.`);
        return;
      }
      void busy(apply, 'Saving…', () =>
        update(operator, { role: role.value }, `${operator.email} is now ${role.value}.`),
      );
    });
    const toggle = h(
      'button',
      { type: 'button', class: `small-button ${operator.disabled ? '' : 'danger'}`.trim() },
      operator.disabled ? 'Enable' : 'Disable',
    );
    toggle.addEventListener('click', async () => {
      if (!operator.disabled) {
        const ok = await confirmDialog({
          title: `Disable ${operator.email}?`,
          body: `${operator.name || operator.email} is signed out everywhere and their API keys stop working until an admin enables the account again.`,
          confirmLabel: 'Disable operator',
          danger: true,
        });
        if (!ok) return;
      }
      await update(
        operator,
        { disabled: !operator.disabled },
        `${operator.email} ${operator.disabled ? 'enabled' : 'disabled'}.`,
      );
    });
    return h(
      'tr',
      { dataset: { operator: operator.email } },
      h(
        'td',
        null,
        operator.email,
        operator.id === me ? h('span', { class: 'muted small' }, ' (you)') : null,
        operator.name ? h('p', { class: 'small muted' }, operator.name) : null,
      ),
      h(
        'td',
        null,
        h(
          'div',
          { class: 'row-actions' },
          h('label', { for: roleId, class: 'visually-hidden' }, `Role of ${operator.email}`),
          role,
          apply,
        ),
      ),
      h('td', null, operator.disabled ? badge('disabled') : badge('active')),
      h(
        'td',
        null,
        operator.lastLoginAt ? time(operator.lastLoginAt) : h('span', { class: 'muted' }, 'never'),
      ),
      h('td', null, toggle),
    );
  }

  async function update(operator, change, done) {
    const focusLabel = document.activeElement?.textContent;
    try {
      await api.patch(`/v1/operators/${seg(operator.id)}`, change);
      notify(done);
      await Promise.all([loadOperators(), loadKeys()]);
      const row = [...operators.querySelectorAll('tr[data-operator]')].find(
        (tr) => tr.dataset.operator === operator.email,
      );
      refocus(
        [...(row?.querySelectorAll('button') ?? [])].find((b) => b.textContent === focusLabel),
        cardHeading(operators),
      );
    } catch (error) {
      alertNotice(errorMessage(error));
    }
  }

  function createOperatorForm() {
    const email = field({
      label: 'E-mail',
      name: 'email',
      type: 'email',
      required: true,
      autocomplete: 'off',
    });
    const name = field({ label: 'Name', name: 'name', autocomplete: 'off' });
    const role = field({
      label: 'Role',
      name: 'role',
      required: true,
      hint: 'viewer: read only · ops: tenants · sre: migration runs · admin: everything',
      input: h(
        'select',
        { value: 'viewer' },
        OPERATOR_ROLES.map((r) => h('option', { value: r }, r)),
      ),
    });
    const result = h('div', { 'aria-live': 'polite' });
    const error = h('p', { class: 'form-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Create operator');
    const form = h(
      'form',
      { class: 'stack', novalidate: true, 'aria-label': 'Create an operator' },
      email.wrapper,
      name.wrapper,
      role.wrapper,
      error,
      h('div', { class: 'form-actions' }, submit),
      result,
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      error.textContent = '';
      const problem = emailProblem(email.control.value.trim(), 'email');
      email.setError(problem);
      if (problem) {
        email.control.focus();
        return;
      }
      void busy(submit, 'Creating…', async () => {
        try {
          const created = await api.post('/v1/operators', {
            email: email.control.value.trim(),
            role: role.control.value,
            ...(name.control.value.trim() && { name: name.control.value.trim() }),
          });
          fill(
            result,
            h(
              'div',
              { class: 'callout', dataset: { oneTimePassword: 'shown' } },
              h(
                'p',
                null,
                h('strong', null, `${created.operator.email} (${created.operator.role}) created.`),
                ' One-time password — shown only now; hand it over securely:',
              ),
              h('p', null, h('code', { class: 'one-time-password' }, created.oneTimePassword)),
            ),
          );
          email.control.value = '';
          name.control.value = '';
          await loadOperators();
        } catch (failure) {
          if (failure instanceof ApiError && failure.code === 'operator_email_taken')
            email.setError(failure.message);
          else if (failure instanceof ApiError && failure.details.length) {
            for (const d of failure.details) if (d.field === 'email') email.setError(d.message);
            error.textContent = failure.message;
          } else error.textContent = errorMessage(failure);
        }
      });
    });
    return form;
  }

  // ---- API keys ----

  async function loadKeys() {
    try {
      showKeys(await get('/v1/api-keys'));
    } catch (error) {
      if (!ignoreAbort(error))
        fill(
          keys,
          errorState(error, () => void loadKeys()),
        );
    }
  }

  function showKeys(list) {
    const table =
      list.length === 0
        ? emptyState('No API keys.')
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              null,
              h('caption', { class: 'visually-hidden' }, 'API keys of every operator'),
              h(
                'thead',
                null,
                h(
                  'tr',
                  null,
                  ['Key', 'Owner', 'Status', 'Created', 'Last used', 'Expires', ''].map((l) =>
                    h('th', { scope: 'col' }, l),
                  ),
                ),
              ),
              h('tbody', null, list.map(keyRow)),
            ),
          );
    fill(keys, table);
  }

  function keyRow(key) {
    let revoke = null;
    if (key.status === 'active') {
      revoke = h('button', { type: 'button', class: 'small-button danger' }, 'Revoke');
      revoke.addEventListener('click', async () => {
        const ok = await confirmDialog({
          title: `Revoke ${key.prefix} (“${key.name}”)?`,
          body: `Automation using this key of ${key.operatorEmail} gets 401 from now on. This cannot be undone.`,
          confirmLabel: 'Revoke key',
          danger: true,
        });
        if (!ok) return;
        try {
          await api.delete(`/v1/api-keys/${seg(key.id)}`);
          notify(`${key.prefix} revoked.`);
          await loadKeys();
          refocus(cardHeading(keys));
        } catch (error) {
          alertNotice(errorMessage(error));
        }
      });
    }
    return h(
      'tr',
      { dataset: { key: key.prefix, status: key.status } },
      h('td', null, h('code', null, key.prefix), h('p', { class: 'small muted' }, key.name)),
      h('td', { class: 'small' }, key.operatorEmail),
      h('td', null, badge(key.status)),
      h('td', null, time(key.createdAt)),
      h('td', null, key.lastUsedAt ? time(key.lastUsedAt) : h('span', { class: 'muted' }, 'never')),
      h('td', null, key.expiresAt ? time(key.expiresAt) : h('span', { class: 'muted' }, 'never')),
      h('td', null, revoke),
    );
  }

  function createKeyForm() {
    const nameId = uid('key-name');
    const expiresId = uid('key-expires');
    const name = h('input', {
      id: nameId,
      autocomplete: 'off',
      placeholder: 'ci deploys',
      maxlength: 100,
    });
    const expires = h('input', { id: expiresId, type: 'date' });
    const submit = h('button', { type: 'submit' }, 'Create my key');
    const error = h('p', { class: 'form-error', role: 'alert' });
    const result = h('div', { 'aria-live': 'polite' });
    const form = h(
      'form',
      { novalidate: true, 'aria-label': 'Create an API key for yourself' },
      h(
        'div',
        { class: 'form-row' },
        h('div', { class: 'inline-field' }, h('label', { for: nameId }, 'Key name'), name),
        h(
          'div',
          { class: 'inline-field' },
          h('label', { for: expiresId }, 'Expires', h('span', { class: 'muted' }, ' (optional)')),
          expires,
        ),
        submit,
      ),
      error,
      result,
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      error.textContent = '';
      if (!name.value.trim()) {
        error.textContent = 'Name the key after what uses it.';
        name.focus();
        return;
      }
      void busy(submit, 'Creating…', async () => {
        try {
          const created = await api.post('/v1/api-keys', {
            name: name.value.trim(),
            ...(expires.value && {
              expiresAt: new Date(`${expires.value}T23:59:59Z`).toISOString(),
            }),
          });
          fill(
            result,
            h(
              'div',
              { class: 'callout' },
              h(
                'p',
                null,
                h('strong', null, `Key ${created.apiKey.prefix} created.`),
                ' Copy it now — it is shown only once:',
              ),
              h('p', null, h('code', null, created.key)),
            ),
          );
          name.value = '';
          await loadKeys();
        } catch (failure) {
          error.textContent = errorMessage(failure);
        }
      });
    });
    return form;
  }

  void loadOperators();
  void loadKeys();

  return h(
    'section',
    null,
    h('div', { class: 'page-head' }, h('h1', null, 'Operators')),
    h(
      'div',
      { class: 'grid' },
      card('Operators', operators, 'wide reserve-m'),
      card('Create an operator', createOperatorForm(), 'reserve-m'),
      card(
        'API keys',
        h('div', null, keys, h('h3', { class: 'plan' }, 'New key for yourself'), createKeyForm()),
        'reserve-m',
      ),
    ),
  );
}
