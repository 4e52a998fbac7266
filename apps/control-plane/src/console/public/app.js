// The console's shell: who is signed in, the top bar, and hash routing (#/tenants, ...). Each
// page module exports `render(ctx)`, which returns its element at once (with placeholders that
// hold the space) and fills it as data arrives; `ctx.signal` aborts its requests and
// `ctx.onDispose` stops its streams and timers when the user leaves the page.
import { api, can, setCsrfToken, whenUnauthenticated } from './api.js';
import { fill, h, notify } from './dom.js';
import * as operatorsPage from './operators.page.js';
import * as onboardPage from './onboard.page.js';
import * as signInPage from './sign-in.page.js';
import * as srePage from './sre.page.js';
import * as tenantPage from './tenant.page.js';
import * as tenantsPage from './tenants.page.js';

const ROUTES = [
  { path: /^\/tenants$/, page: tenantsPage, nav: 'tenants' },
  { path: /^\/tenants\/([^/]+)$/, page: tenantPage, nav: 'tenants' },
  { path: /^\/onboard$/, page: onboardPage, nav: 'onboard' },
  { path: /^\/onboard\/([^/]+)$/, page: onboardPage, nav: 'onboard' },
  { path: /^\/sre$/, page: srePage, nav: 'sre' },
  { path: /^\/operators$/, page: operatorsPage, nav: 'operators' },
];

const NAV = [
  { id: 'tenants', href: '#/tenants', label: 'Tenants', role: 'viewer' },
  { id: 'onboard', href: '#/onboard', label: 'Onboard tenant', role: 'ops' },
  { id: 'sre', href: '#/sre', label: 'Fleet (SRE)', role: 'viewer' },
  { id: 'operators', href: '#/operators', label: 'Operators', role: 'admin' },
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const whoami = document.getElementById('whoami');

/** `{ role, operator, csrfToken }` once signed in. */
let session = null;
let current = null;

function parseHash() {
  const raw = location.hash.startsWith('#/') ? location.hash.slice(1) : '/tenants';
  const [path, search = ''] = raw.split('?');
  return { path: path.replace(/\/+$/, '') || '/tenants', query: new URLSearchParams(search) };
}

function dispose() {
  if (!current) return;
  current.controller.abort();
  for (const stop of current.cleanups) {
    try {
      stop();
    } catch {
      // A cleanup that fails must not keep the next page from rendering.
    }
  }
  current = null;
}

function renderShell(activeNav) {
  nav.hidden = !session;
  whoami.hidden = !session;
  if (!session) return;
  fill(
    nav,
    NAV.filter((item) => can(session.role, item.role)).map((item) =>
      h(
        'a',
        { href: item.href, 'aria-current': item.id === activeNav ? 'page' : undefined },
        item.label,
      ),
    ),
  );
  fill(
    whoami,
    h('span', null, session.operator?.email ?? session.actor),
    h('span', { class: 'role', title: 'Your role' }, session.role),
    h('button', { type: 'button', class: 'link-button', onclick: signOut }, 'Sign out'),
  );
}

function route() {
  dispose();
  const { path, query } = parseHash();
  if (!session) {
    renderPage(signInPage, {
      query,
      params: [],
      next: path === '/sign-in' ? '/tenants' : path + queryText(query),
    });
    return;
  }
  if (path === '/sign-in') {
    navigate('#/tenants', { replace: true });
    return;
  }
  const match = ROUTES.map((r) => ({ r, m: r.path.exec(path) })).find(({ m }) => m);
  if (!match) {
    renderShell(null);
    renderPage(notFoundPage, { query, params: [] });
    return;
  }
  renderShell(match.r.nav);
  renderPage(match.r.page, { query, params: match.m.slice(1).map(decodeURIComponent) });
}

function queryText(query) {
  const text = query.toString();
  return text ? `?${text}` : '';
}

function renderPage(page, { query, params, next }) {
  const controller = new AbortController();
  const cleanups = [];
  current = { controller, cleanups };
  const ctx = {
    session,
    query,
    params,
    next,
    signal: controller.signal,
    onDispose: (stop) => cleanups.push(stop),
    navigate,
    signedIn,
    /** Rewrites the query part of the current route without re-rendering (filters, pages). */
    setQuery(params) {
      const { path } = parseHash();
      const search = new URLSearchParams();
      for (const [key, value] of Object.entries(params)) if (value) search.set(key, String(value));
      history.replaceState(null, '', `#${path}${queryText(search)}`);
    },
  };
  const element = page.render(ctx);
  fill(main, element);
  const heading = main.querySelector('h1');
  document.title = heading ? `${heading.textContent} · Tenancy console` : 'Tenancy console';
  // Keyboard and screen-reader users land on the new page's heading (or its first field, where
  // the page is a form), not on the link they left behind.
  const first = main.querySelector('[data-autofocus]');
  if (heading) heading.setAttribute('tabindex', '-1');
  (first ?? heading)?.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

export function navigate(hash, { replace = false } = {}) {
  if (replace) {
    history.replaceState(null, '', hash);
    route();
  } else if (location.hash === hash) {
    route();
  } else {
    location.hash = hash;
  }
}

function signedIn(me, next) {
  session = me;
  setCsrfToken(me.csrfToken);
  navigate(`#${next && next !== '/sign-in' ? next : '/tenants'}`, { replace: true });
}

async function signOut() {
  try {
    await api.post('/v1/auth/logout', undefined, { quietUnauthenticated: true });
  } catch {
    // Signed out already (expired session): nothing left to end.
  }
  session = null;
  setCsrfToken(null);
  renderShell(null);
  notify('Signed out.');
  navigate('#/sign-in', { replace: true });
}

const notFoundPage = {
  render: () =>
    h(
      'section',
      null,
      h('div', { class: 'page-head' }, h('h1', null, 'Page not found')),
      h(
        'p',
        { class: 'state state--empty' },
        'There is no such page. ',
        h('a', { href: '#/tenants' }, 'Go to the tenants'),
      ),
    ),
};

whenUnauthenticated(() => {
  if (!session) return;
  session = null;
  setCsrfToken(null);
  renderShell(null);
  route();
  notify('Your session has ended. Sign in again.');
});

// The skip link's target is an element, not a route: focus it without touching the hash.
document.querySelector('.skip-link').addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});

window.addEventListener('hashchange', route);

async function start() {
  try {
    const me = await api.get('/v1/auth/me', { quietUnauthenticated: true });
    session = me;
    setCsrfToken(me.csrfToken);
  } catch {
    session = null;
  }
  route();
}

void start();
