/** The welcome page: static, tenant-neutral; its script fills in the tenant's name. */
export const WELCOME_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Welcome</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 28rem; margin: 4rem auto; padding: 0 1rem; }
  label { display: block; margin-top: 1rem; }
  input { width: 100%; padding: .5rem; font-size: 1rem; box-sizing: border-box; }
  button { margin-top: 1.5rem; padding: .6rem 1.2rem; font-size: 1rem; }
  #message { margin-top: 1rem; }
  .error { color: #b00020; }
</style>
</head>
<body>
<h1>Welcome to <span id="tenant-name">your workspace</span></h1>
<p>Choose a password to finish setting up your account.</p>
<form id="welcome-form">
  <label>Password <input id="password" type="password" autocomplete="new-password" minlength="12" required></label>
  <label>Repeat password <input id="password-repeat" type="password" autocomplete="new-password" minlength="12" required></label>
  <button id="submit" type="submit">Set password</button>
</form>
<p id="message" role="status"></p>
<script src="/welcome/welcome.js"></script>
</body>
</html>
`;

export const WELCOME_PAGE_SCRIPT = `(() => {
  const params = new URLSearchParams(location.search);
  const token = params.get('token') || '';
  // The same form sets a password from an invite or from a password-reset link.
  const endpoint = params.get('purpose') === 'reset' ? '/api/auth/reset-password' : '/api/auth/accept-invite';
  // The token leaves the address bar (and so the history) as soon as the page has it.
  history.replaceState(null, '', location.pathname);
  const form = document.getElementById('welcome-form');
  const message = document.getElementById('message');
  const show = (text, isError) => { message.textContent = text; message.className = isError ? 'error' : ''; };
  fetch('/api/tenant').then((r) => (r.ok ? r.json() : null)).then((tenant) => {
    if (tenant && tenant.name) document.getElementById('tenant-name').textContent = tenant.name;
  }, () => undefined);
  if (!token) { show('This link has no invite token. Ask for a new invite.', true); form.hidden = true; }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const password = document.getElementById('password').value;
    if (password !== document.getElementById('password-repeat').value) { show('The passwords differ.', true); return; }
    document.getElementById('submit').disabled = true;
    const response = await fetch(endpoint, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token, password }),
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok) { form.hidden = true; show('Your password is set. You can sign in now.', false); return; }
    document.getElementById('submit').disabled = false;
    show(body.message || 'Something went wrong. Try again.', true);
  });
})();
`;
