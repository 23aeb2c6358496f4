// The interface's router: #/runs, #/runs/ID, #/lineage/RUN/PATH,
// #/launch[/NAME], #/systems, #/admin. Each page module exports
// show(main, params) and may return a function that stops what the page
// follows (event streams, timers) when another page opens.

import * as api from './api.js';
import {h, clear, say} from './dom.js';
import * as runs from './runs.js';
import * as run from './run.js';
import * as launch from './launch.js';
import * as lineage from './lineage.js';
import * as systems from './systems.js';
import * as admin from './admin.js';

const main = document.getElementById('main');
let stop = null;

// Scripts the page did not load must never run: the browser tests look
// for this count to stay 0 when a hostile run is shown.
window.flowCSPViolations = 0;
document.addEventListener('securitypolicyviolation', () => { window.flowCSPViolations++; });

function route() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query || '');
  switch (parts[0] || 'runs') {
    case 'runs': return parts[1] ? [run, {id: parts[1], params}] : [runs, {params}];
    case 'lineage': return [lineage, {run: parts[1], path: parts.slice(2).join('/')}];
    case 'launch': return [launch, {name: parts[1], params}];
    case 'systems': return [systems, {}];
    case 'admin': return [admin, {}];
  }
  return [null, {}];
}

async function render() {
  if (stop) { stop(); stop = null; }
  if (!api.current() && !(await api.resume())) {
    showSignIn();
    return;
  }
  showChrome();
  const [page, params] = route();
  clear(main);
  if (!page) {
    main.append(h('h1', {}, 'Not found'), h('p', {}, h('a', {href: '#/runs'}, 'Back to the runs')));
    return;
  }
  try {
    stop = (await page.show(main, params)) || null;
  } catch (e) {
    if (api.current()) main.append(h('p', {class: 'error', role: 'alert'}, e.message));
  }
  const h1 = main.querySelector('h1');
  document.title = (h1 ? h1.textContent + ' · ' : '') + 'flowd'; // what a screen reader and the tab say
  for (const a of document.querySelectorAll('#nav a')) {
    a.toggleAttribute('aria-current', location.hash.startsWith(a.getAttribute('href')));
  }
}

function showChrome() {
  const s = api.current();
  document.getElementById('nav').hidden = false;
  document.getElementById('nav-admin').hidden = !api.can('admin');
  document.getElementById('signout').hidden = false;
  document.getElementById('who').textContent = `${s.team} · ${s.token_name || 'token'} (${s.role})`;
}

function showSignIn(message) {
  if (stop) { stop(); stop = null; }
  document.getElementById('nav').hidden = true;
  document.getElementById('signout').hidden = true;
  document.getElementById('who').textContent = '';
  const input = h('input', {id: 'token', type: 'password', autocomplete: 'off', required: true, 'aria-describedby': 'token-help'});
  const err = h('p', {class: 'error', role: 'alert', id: 'signin-error'});
  const form = h('form', {class: 'signin', onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = '';
    try {
      await api.signIn(input.value);
      input.value = '';
      say('Signed in');
      render();
    } catch (x) {
      err.textContent = x.status === 401 ? 'That token is not valid.' : x.message;
      input.focus();
    }
  }},
  h('h1', {}, 'Sign in to flowd'),
  h('label', {for: 'token'}, 'Access token'),
  input,
  h('p', {id: 'token-help', class: 'help'}, 'Paste a token once (flowd token create, or from your team admin). The browser keeps a session cookie, not the token.'),
  h('button', {type: 'submit'}, 'Sign in'),
  err);
  clear(main).append(form);
  if (message) err.textContent = message;
  input.focus();
}

// The skip link moves the focus to the page's content (its href would be
// taken for a route).
document.querySelector('.skip').addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});

api.onSignedOut(() => showSignIn('You are signed out.'));
document.getElementById('signout').addEventListener('click', () => api.signOut());
window.addEventListener('hashchange', render);
render();
