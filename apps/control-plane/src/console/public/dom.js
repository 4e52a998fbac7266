// Small DOM helpers. Text always goes in as text (never innerHTML): tenant names, audit details
// and error messages are data, and data must not become markup.

/**
 * `h('button', { class: 'primary', onclick: save }, 'Save')`. Props: `class`, `on<event>`,
 * `dataset`, `value` (set after the children, so a <select> can pick one of its options),
 * booleans (present or absent), everything else as an attribute.
 */
export function h(tag, props, ...children) {
  const element = document.createElement(tag);
  let value;
  for (const [key, prop] of Object.entries(props ?? {})) {
    if (prop === undefined || prop === null || prop === false) continue;
    if (key === 'value') value = prop;
    else if (key === 'class') element.className = prop;
    else if (key === 'dataset') Object.assign(element.dataset, prop);
    else if (key.startsWith('on') && typeof prop === 'function') {
      element.addEventListener(key.slice(2), prop);
    } else element.setAttribute(key, prop === true ? '' : String(prop));
  }
  append(element, children);
  if (value !== undefined) element.value = value;
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces an element's children. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

let sequence = 0;
/** A document-unique id, for label/aria-describedby pairs. */
export function uid(prefix) {
  sequence += 1;
  return `${prefix}-${sequence}`;
}

// ---- formatting ----

const DATE_TIME = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
const DATE = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium' });

export function formatDateTime(value) {
  return value ? DATE_TIME.format(new Date(value)) : '—';
}

export function formatDate(value) {
  return value ? DATE.format(new Date(value)) : '—';
}

/** `<time>` with the exact instant in `datetime` and a readable text. */
export function time(value, { dateOnly = false } = {}) {
  if (!value) return '—';
  return h(
    'time',
    { datetime: new Date(value).toISOString() },
    dateOnly ? formatDate(value) : formatDateTime(value),
  );
}

export function formatDuration(ms) {
  if (ms === null || ms === undefined) return '';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

export function daysUntil(value) {
  return Math.floor((new Date(value).getTime() - Date.now()) / 86_400_000);
}

/** Human label for a status code; saga steps say `done` for the registry's `succeeded`. */
export function statusLabel(status) {
  return String(status).replaceAll('_', ' ');
}

export function badge(status, label = statusLabel(status), extraClass = '') {
  return h('span', { class: `badge badge--${status} ${extraClass}`.trim() }, label);
}

// ---- states ----

export function loadingState(text = 'Loading…') {
  return h('p', { class: 'state state--loading' }, text);
}

export function emptyState(text, ...extra) {
  return h('div', { class: 'state state--empty' }, h('p', null, text), ...extra);
}

/** An error with a way out: what went wrong, and a button that tries again. */
export function errorState(error, retry) {
  return h(
    'div',
    { class: 'state state--error', role: 'alert' },
    h('span', null, errorMessage(error)),
    retry ? h('button', { type: 'button', onclick: retry }, 'Try again') : null,
  );
}

export function errorMessage(error) {
  if (error && typeof error === 'object' && 'status' in error) {
    if (error.status === 403) return `Not allowed: ${error.message}`;
    if (error.status === 0) return 'The control plane cannot be reached. Check your connection.';
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

// ---- notices (live regions in index.html) ----

let statusTimer;
let alertTimer;

/** A polite announcement that also shows for a few seconds (e.g. "acme suspended"). */
export function notify(message) {
  const region = document.getElementById('status-notice');
  region.textContent = message;
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => (region.textContent = ''), 6000);
}

/** An assertive one, for failures the user did not see coming. */
export function alertNotice(message) {
  const region = document.getElementById('alert-notice');
  region.textContent = message;
  clearTimeout(alertTimer);
  alertTimer = setTimeout(() => (region.textContent = ''), 9000);
}

// ---- form fields ----

/**
 * A labelled field with a hint and a reserved line for its error, tied together with
 * aria-describedby so a screen reader reads the rule and the problem with the input.
 */
export function field({ label, name, type = 'text', hint, required = false, input, ...rest }) {
  const id = uid(`field-${name}`);
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const control =
    input ??
    h('input', {
      id,
      name,
      type,
      required,
      'aria-required': required ? 'true' : undefined,
      ...rest,
    });
  control.id = id;
  control.name = name;
  control.setAttribute('aria-describedby', [hintId, errorId].filter(Boolean).join(' '));
  const error = h('p', { class: 'field-error', id: errorId });
  const wrapper = h(
    'div',
    { class: 'field', dataset: { field: name } },
    h('label', { for: id }, label, required ? null : h('span', { class: 'muted' }, ' (optional)')),
    control,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    error,
  );
  return { wrapper, control, setError: (message) => setFieldError(control, error, message) };
}

function setFieldError(control, error, message) {
  error.textContent = message ?? '';
  if (message) control.setAttribute('aria-invalid', 'true');
  else control.removeAttribute('aria-invalid');
}

// ---- layout and focus ----

/** A titled card; its heading can take focus (where focus goes when a control in it vanished). */
export function card(title, body, extra = '') {
  const id = uid('card');
  return h(
    'section',
    { class: `card ${extra}`.trim(), 'aria-labelledby': id },
    h('h2', { id, tabindex: '-1' }, title),
    body,
  );
}

/** The heading of the card around `element`. */
export function cardHeading(element) {
  return element.closest('section.card')?.querySelector('h2') ?? null;
}

/**
 * After a re-render removed the control that had focus (it fell back to <body>), focus the first
 * candidate still in the page: the same control re-created, its replacement, or the section's
 * heading. Keyboard users carry on where they were instead of starting again from the top.
 */
export function refocus(...candidates) {
  const active = document.activeElement;
  if (active && active !== document.body && active.isConnected) return;
  candidates.find((candidate) => candidate?.isConnected)?.focus();
}

// ---- confirmation dialog ----

/**
 * A modal confirmation that names what it acts on. `requireText`: the user must type it (the
 * slug, for deletes) before the confirm button works. Resolves true when confirmed. The native
 * <dialog> keeps focus inside and closes on Escape; focus returns to where it was.
 */
export function confirmDialog({ title, body, confirmLabel, danger = false, requireText }) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const titleId = uid('dialog-title');
    const bodyId = uid('dialog-body');
    const confirm = h(
      'button',
      {
        type: 'submit',
        class: `primary ${danger ? 'danger' : ''}`,
        disabled: Boolean(requireText),
      },
      confirmLabel,
    );
    const cancel = h('button', { type: 'button', onclick: () => dialog.close('cancel') }, 'Cancel');
    let typed = null;
    let typedField = null;
    if (requireText) {
      const typedId = uid('dialog-typed');
      typed = h('input', {
        id: typedId,
        autocomplete: 'off',
        spellcheck: 'false',
        oninput: () => (confirm.disabled = typed.value !== requireText),
      });
      typedField = h(
        'div',
        { class: 'field' },
        h('label', { for: typedId }, 'Type ', h('code', null, requireText), ' to confirm'),
        typed,
      );
    }
    const form = h(
      'form',
      { method: 'dialog', class: 'stack' },
      h('h2', { id: titleId }, title),
      h('p', { id: bodyId }, body),
      typedField,
      h('div', { class: 'dialog-actions' }, cancel, confirm),
    );
    const dialog = h('dialog', { 'aria-labelledby': titleId, 'aria-describedby': bodyId }, form);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (!confirm.disabled) dialog.close('confirm');
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
      resolve(dialog.returnValue === 'confirm');
    });
    document.body.append(dialog);
    dialog.showModal();
    (typed ?? cancel).focus();
  });
}

/** Runs `work` with the button disabled and its label swapped, keeping its width. */
export async function busy(button, label, work) {
  const original = button.textContent;
  button.style.minWidth = `${button.offsetWidth}px`;
  button.disabled = true;
  button.textContent = label;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.textContent = original;
  }
}
