// The control plane's API, from the console: same origin, the session cookie rides along by
// itself; writes carry the session's CSRF token (X-CSRF-Token), which only this page can read.

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? (status === 0 ? 'Network error' : `Request failed (${status})`));
    this.name = 'ApiError';
    this.status = status;
    this.code = body?.error ?? null;
    /** `[{field, rule, message}]` for validation refusals. */
    this.details = Array.isArray(body?.details) ? body.details : [];
    this.body = body;
  }
}

let csrfToken = null;
let onUnauthenticated = () => {};

export function setCsrfToken(token) {
  csrfToken = token;
}

/** Called with the error when a request comes back 401 (session over): the app signs out. */
export function whenUnauthenticated(handler) {
  onUnauthenticated = handler;
}

async function request(method, path, body, { headers = {}, signal, quietUnauthenticated } = {}) {
  const init = {
    method,
    headers: { Accept: 'application/json', ...headers },
    signal,
    credentials: 'same-origin',
  };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && csrfToken) init.headers['X-CSRF-Token'] = csrfToken;
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error?.name === 'AbortError') throw error;
    throw new ApiError(0, null);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && !quietUnauthenticated) onUnauthenticated(error);
    throw error;
  }
  return data;
}

export const api = {
  get: (path, options) => request('GET', path, undefined, options),
  post: (path, body, options) => request('POST', path, body ?? {}, options),
  patch: (path, body, options) => request('PATCH', path, body, options),
  delete: (path, options) => request('DELETE', path, undefined, options),
};

/** `/v1/tenants/${seg(slug)}`: path segments from data are always encoded. */
export function seg(value) {
  return encodeURIComponent(String(value));
}

/** `?a=1&b=x`, skipping empty values. */
export function queryString(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** Mirrors roleAllows() on the server: admin does everything, viewer routes are for all. */
export function can(role, needed) {
  return role === 'admin' || needed === 'viewer' || needed === role;
}

/** An Idempotency-Key; crypto.randomUUID needs a secure context, getRandomValues does not. */
export function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `console-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
