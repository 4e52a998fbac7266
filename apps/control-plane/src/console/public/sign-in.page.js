// Sign in with e-mail and password: the API sets the session cookie (HttpOnly) and returns the
// CSRF token the page sends back on every change.
import { api, ApiError } from './api.js';
import { busy, field, h } from './dom.js';

export function render(ctx) {
  const email = field({
    label: 'E-mail',
    name: 'email',
    type: 'email',
    required: true,
    autocomplete: 'username',
    'data-autofocus': true,
  });
  const password = field({
    label: 'Password',
    name: 'password',
    type: 'password',
    required: true,
    autocomplete: 'current-password',
  });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'stack', novalidate: true, 'aria-labelledby': 'sign-in-title' },
    email.wrapper,
    password.wrapper,
    error,
    h('div', { class: 'form-actions' }, submit),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    email.setError(email.control.value ? null : 'Enter your e-mail address');
    password.setError(password.control.value ? null : 'Enter your password');
    if (!email.control.value || !password.control.value) {
      (email.control.value ? password.control : email.control).focus();
      return;
    }
    await busy(submit, 'Signing in…', async () => {
      try {
        const login = await api.post(
          '/v1/auth/login',
          { email: email.control.value.trim(), password: password.control.value },
          { quietUnauthenticated: true },
        );
        ctx.signedIn(
          { role: login.operator.role, operator: login.operator, csrfToken: login.csrfToken },
          ctx.next,
        );
      } catch (failure) {
        password.control.value = '';
        error.textContent = signInError(failure);
        password.control.focus();
      }
    });
  });

  return h(
    'section',
    { class: 'sign-in' },
    h(
      'div',
      { class: 'card' },
      h('div', { class: 'page-head' }, h('h1', { id: 'sign-in-title' }, 'Sign in')),
      h('p', { class: 'muted small' }, 'Operators only. Ask an admin for an account.'),
      form,
    ),
  );
}

function signInError(error) {
  if (!(error instanceof ApiError)) return 'Sign-in failed. Try again.';
  if (error.status === 429) return `${error.message} Wait a few minutes before trying again.`;
  if (error.status === 0) return 'The control plane cannot be reached.';
  return error.message;
}
