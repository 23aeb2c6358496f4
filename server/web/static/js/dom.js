// Building the page. Every text goes in as a text node (textContent),
// never as markup: names, file names and logs come from runs, and a run
// may be hostile. Links may only point inside the daemon.

const SVGNS = 'http://www.w3.org/2000/svg';

// safeHref lets through only the interface's own routes (#/...) and the
// daemon's API (/api/v1/...); anything else (javascript:, other sites)
// becomes a dead link.
export function safeHref(v) {
  const s = String(v);
  if (s.startsWith('#/') || s.startsWith('/api/v1/')) return s;
  return '#';
}

function set(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.setAttribute('class', v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'href') el.setAttribute('href', safeHref(v));
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked' || k === 'selected' || k === 'disabled' || k === 'multiple' || k === 'required') el[k] = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// h makes an HTML element: h('a', {href: '#/runs'}, 'Runs').
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  set(el, attrs);
  return append(el, children);
}

// s makes an SVG element.
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVGNS, tag);
  set(el, attrs);
  return append(el, children);
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

// add appends children to el, skipping null and false (which the DOM's
// own append would write as the words "null" and "false").
export function add(el, ...children) {
  return append(el, children);
}

// say tells screen readers what changed.
export function say(msg) {
  const st = document.getElementById('status');
  if (st) st.textContent = msg;
}

export function fmtTime(t) {
  if (!t) return '';
  const d = new Date(t);
  return isNaN(d) ? '' : d.toLocaleString(undefined, {dateStyle: 'short', timeStyle: 'medium'});
}

export function fmtDuration(ms) {
  if (ms == null || ms < 0 || isNaN(ms)) return '';
  const sec = ms / 1000;
  if (sec < 60) return sec.toFixed(sec < 10 ? 1 : 0) + ' s';
  const m = Math.floor(sec / 60), r = Math.round(sec % 60);
  if (m < 60) return `${m} min ${r} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function fmtBytes(n) {
  if (n == null) return '';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

// States of runs and jobs: a word and a symbol for each, so that colour is
// never the only sign.
const STATES = {
  QUEUED: ['queued', '◷'], INITIALIZING: ['starting', '◔'], RUNNING: ['running', '▶'], COMPLETE: ['complete', '✓'],
  EXECUTOR_ERROR: ['failed', '✗'], SYSTEM_ERROR: ['system error', '⚠'], CANCELED: ['canceled', '⊘'], CANCELING: ['canceling', '⊘'],
  running: ['running', '▶'], succeeded: ['done', '✓'], failed: ['failed', '✗'], skipped: ['skipped', '↷'],
  reused: ['reused', '♻'], damaged: ['damaged', '⚠'], waiting: ['waiting', '◷'], done: ['done', '✓'],
};

export function stateClass(st) {
  return 'st-' + String(st).toLowerCase().replace(/[^a-z_]/g, '');
}

export function stateBadge(st) {
  const [word, sym] = STATES[st] || [String(st).toLowerCase(), '•'];
  return h('span', {class: 'badge ' + stateClass(st)}, h('span', {'aria-hidden': 'true'}, sym + ' '), word);
}

export function stateWord(st) {
  return (STATES[st] || [String(st)])[0];
}

export function stateSymbol(st) {
  return (STATES[st] || ['', '•'])[1];
}
