// The daemon's API, with the session cookie. Writes carry the session's
// CSRF token; the token the user signed in with is never kept here.

let session = null; // {team, role, token_name, token_id, csrf_token}
const listeners = [];

export class APIError extends Error {
  constructor(status, msg) { super(msg); this.status = status; }
}

export function current() { return session; }

// onSignedOut registers what to do when the session ends (sign-out,
// revocation, expiry).
export function onSignedOut(fn) { listeners.push(fn); }

function ended() {
  session = null;
  for (const fn of listeners) fn();
}

export async function call(path, {method = 'GET', json, body} = {}) {
  const headers = {};
  if (method !== 'GET' && session) headers['X-CSRF-Token'] = session.csrf_token;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  }
  const r = await fetch('/api/v1' + path, {method, headers, body, credentials: 'same-origin'});
  if (r.status === 401 && path !== '/session') ended();
  if (!r.ok) {
    let msg = r.statusText;
    try { msg = (await r.json()).msg || msg; } catch { /* not JSON */ }
    throw new APIError(r.status, msg);
  }
  if (r.status === 204) return null;
  const ct = r.headers.get('Content-Type') || '';
  return ct.startsWith('application/json') ? r.json() : r.text();
}

export async function resume() {
  try {
    session = await call('/session');
  } catch {
    session = null;
  }
  return session;
}

export async function signIn(token) {
  session = await call('/session', {method: 'POST', json: {token}});
  return session;
}

export async function signOut() {
  try { await call('/session', {method: 'DELETE'}); } finally { ended(); }
}

// can reports whether the signed-in role may do action: read, submit,
// cancel or admin (the daemon checks again).
export function can(action) {
  const rank = {viewer: 1, operator: 2, admin: 3}[session && session.role] || 0;
  return rank >= ({read: 1, submit: 2, cancel: 2, admin: 3}[action] || 9);
}

// follow opens an event stream and calls fn for every event; the stream
// is closed when the page changes (the returned function). A stream the
// daemon ends for good (sign-out, revocation) is noticed by checking the
// session.
export function follow(path, fn) {
  const es = new EventSource('/api/v1' + path);
  for (const kind of ['state', 'step', 'log']) {
    es.addEventListener(kind, (e) => {
      try { fn(JSON.parse(e.data)); } catch { /* a malformed event is skipped */ }
    });
  }
  es.onerror = async () => {
    if (es.readyState === EventSource.CLOSED || es.readyState === EventSource.CONNECTING) {
      if (!(await resume())) { es.close(); ended(); }
    }
  };
  return () => es.close();
}
