// Tenants: search, status filter, pages of 20. Filters live in the URL (#/tenants?search=...)
// so a view can be shared and survives a reload; the table keeps its rows while the next page
// loads (aria-busy) instead of collapsing.
import { api, can, queryString } from './api.js';
import { badge, emptyState, errorState, fill, h, loadingState, time, uid } from './dom.js';
import { TENANT_STATUSES } from './rules.js';

const PAGE_SIZE = 20;
/** Warm-pool rows are machinery, not tenants; the API hides them from the list too. */
const LISTED_STATUSES = TENANT_STATUSES.filter(
  (status) => status !== 'warming' && status !== 'pooled',
);

export function render(ctx) {
  const state = {
    search: ctx.query.get('search') ?? '',
    status: LISTED_STATUSES.includes(ctx.query.get('status')) ? ctx.query.get('status') : '',
    page: Math.max(1, Number.parseInt(ctx.query.get('page') ?? '1', 10) || 1),
  };

  const searchId = uid('search');
  const statusId = uid('status');
  const search = h('input', {
    id: searchId,
    type: 'search',
    name: 'search',
    value: state.search,
    placeholder: 'slug, name or e-mail',
    autocomplete: 'off',
  });
  const status = h(
    'select',
    { id: statusId, name: 'status', value: state.status },
    h('option', { value: '' }, 'All statuses'),
    LISTED_STATUSES.map((s) => h('option', { value: s }, s)),
  );
  const filters = h(
    'form',
    { class: 'toolbar', role: 'search', 'aria-label': 'Filter tenants' },
    h('div', { class: 'inline-field' }, h('label', { for: searchId }, 'Search'), search),
    h('div', { class: 'inline-field' }, h('label', { for: statusId }, 'Status'), status),
    h('button', { type: 'submit' }, 'Apply'),
  );

  const results = h(
    'div',
    { class: 'table-wrap reserve-l', 'aria-busy': 'true' },
    loadingState('Loading tenants…'),
  );
  const summary = h('span', { class: 'summary', 'aria-live': 'polite' });
  const previous = h(
    'button',
    { type: 'button', disabled: true, onclick: () => go(state.page - 1) },
    'Previous',
  );
  const next = h(
    'button',
    { type: 'button', disabled: true, onclick: () => go(state.page + 1) },
    'Next',
  );

  let debounce;
  let generation = 0;

  function go(page) {
    state.page = page;
    void load();
  }

  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    clearTimeout(debounce);
    state.search = search.value.trim();
    state.status = status.value;
    go(1);
  });
  search.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      state.search = search.value.trim();
      go(1);
    }, 350);
  });
  status.addEventListener('change', () => {
    state.status = status.value;
    go(1);
  });
  ctx.onDispose(() => clearTimeout(debounce));

  async function load() {
    const mine = ++generation;
    ctx.setQuery({
      search: state.search,
      status: state.status,
      page: state.page > 1 ? state.page : '',
    });
    results.setAttribute('aria-busy', 'true');
    try {
      const page = await api.get(
        `/v1/tenants${queryString({ search: state.search, status: state.status, limit: PAGE_SIZE, offset: (state.page - 1) * PAGE_SIZE })}`,
        { signal: ctx.signal },
      );
      if (mine !== generation) return;
      if (page.items.length === 0 && page.total > 0 && state.page > 1) {
        go(Math.ceil(page.total / PAGE_SIZE));
        return;
      }
      showPage(page);
    } catch (error) {
      if (error.name === 'AbortError' || mine !== generation) return;
      fill(
        results,
        errorState(error, () => void load()),
      );
      summary.textContent = '';
    } finally {
      if (mine === generation) results.setAttribute('aria-busy', 'false');
    }
  }

  function showPage(page) {
    const first = page.total === 0 ? 0 : page.offset + 1;
    const last = page.offset + page.items.length;
    summary.textContent = page.total === 0 ? '' : `Showing ${first}–${last} of ${page.total}`;
    const focused = document.activeElement;
    previous.disabled = state.page <= 1;
    next.disabled = last >= page.total;
    // A button that just became disabled drops keyboard focus; hand it to its neighbour.
    if (focused === next && next.disabled && !previous.disabled) previous.focus();
    if (focused === previous && previous.disabled && !next.disabled) next.focus();
    if (page.items.length === 0) {
      const filtered = state.search || state.status;
      fill(
        results,
        emptyState(
          filtered ? 'No tenants match these filters.' : 'No tenants yet.',
          !filtered && can(ctx.session.role, 'ops')
            ? h('a', { href: '#/onboard', class: 'button primary' }, 'Onboard the first tenant')
            : null,
        ),
      );
      return;
    }
    fill(
      results,
      h(
        'table',
        null,
        h('caption', { class: 'visually-hidden' }, 'Tenants'),
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            ['Slug', 'Name', 'Status', 'Plan', 'Template', 'Admin e-mail', 'Created'].map((label) =>
              h('th', { scope: 'col', class: label === 'Template' ? 'num' : undefined }, label),
            ),
          ),
        ),
        h(
          'tbody',
          null,
          page.items.map((tenant) =>
            h(
              'tr',
              { dataset: { tenant: tenant.slug } },
              h(
                'td',
                null,
                h('a', { href: `#/tenants/${encodeURIComponent(tenant.slug)}` }, tenant.slug),
              ),
              h('td', null, tenant.name),
              h('td', null, badge(tenant.status)),
              h('td', null, tenant.plan),
              h('td', { class: 'num' }, `v${tenant.templateVersion}`),
              h('td', null, tenant.adminEmail),
              h('td', null, time(tenant.createdAt)),
            ),
          ),
        ),
      ),
    );
  }

  void load();

  return h(
    'section',
    null,
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, 'Tenants'),
      can(ctx.session.role, 'ops')
        ? h(
            'div',
            { class: 'actions' },
            h('a', { href: '#/onboard', class: 'button primary' }, 'Onboard tenant'),
          )
        : null,
    ),
    h(
      'div',
      { class: 'card' },
      filters,
      results,
      h('nav', { class: 'pagination', 'aria-label': 'Pages' }, summary, previous, next),
    ),
  );
}
