// The runs page: the team's runs, newest first, filtered and paged by the
// daemon, kept live by the team's event stream.

import * as api from './api.js';
import {h, clear, stateBadge, fmtTime, fmtDuration, say} from './dom.js';

const STATES = ['', 'QUEUED', 'INITIALIZING', 'RUNNING', 'COMPLETE', 'EXECUTOR_ERROR', 'SYSTEM_ERROR', 'CANCELED', 'CANCELING'];
const PAGE = 50;

export async function show(main, {params}) {
  const filter = {
    state: params.get('state') || '', workflow: params.get('workflow') || '', q: params.get('q') || '',
    since: params.get('since') || '', until: params.get('until') || '',
  };
  const pages = [params.get('page') || '']; // tokens of the pages seen, to go back
  const field = (id, label, input) => h('div', {class: 'field'}, h('label', {for: id}, label), input);
  const state = h('select', {id: 'f-state'}, STATES.map((s) => h('option', {value: s, selected: s === filter.state}, s ? s.toLowerCase().replace('_', ' ') : 'any')));
  const workflow = h('input', {id: 'f-workflow', list: 'f-workflows', value: filter.workflow, placeholder: 'name or document'});
  const q = h('input', {id: 'f-q', type: 'search', value: filter.q, placeholder: 'id, name, error, tag'});
  const since = h('input', {id: 'f-since', type: 'date', value: filter.since});
  const until = h('input', {id: 'f-until', type: 'date', value: filter.until});
  const names = h('datalist', {id: 'f-workflows'});
  const form = h('form', {class: 'filters', role: 'search', 'aria-label': 'Filter runs', onsubmit: (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    for (const [k, el] of Object.entries({state, workflow, q, since, until})) if (el.value) p.set(k, el.value);
    location.hash = '#/runs' + (p.toString() ? '?' + p : '');
  }},
  field('f-state', 'State', state), field('f-workflow', 'Workflow', workflow), names, field('f-q', 'Text', q),
  field('f-since', 'Submitted from', since), field('f-until', 'to (inclusive)', until),
  h('button', {type: 'submit'}, 'Filter'));
  const body = h('tbody', {id: 'runs-body'});
  const table = h('table', {class: 'runs', id: 'runs'},
    h('caption', {class: 'visually-hidden'}, 'Runs, newest first'),
    h('thead', {}, h('tr', {}, ['State', 'Run', 'Workflow', 'Submitted by', 'Started', 'Duration', 'Cluster'].map((c) => h('th', {scope: 'col'}, c)))),
    body);
  const older = h('button', {type: 'button', id: 'older'}, 'Older runs →');
  const newer = h('button', {type: 'button', id: 'newer'}, '← Newer runs');
  const info = h('p', {class: 'help', id: 'runs-info'});
  main.append(h('h1', {}, 'Runs'), form, table, h('nav', {class: 'pager', 'aria-label': 'Pages of runs'}, newer, older), info);
  api.call('/workflows').then((ws) => {
    for (const n of new Set(ws.map((w) => w.name))) names.append(h('option', {value: n}));
  }).catch(() => {});

  const rows = new Map(); // run id -> {tr, run}
  let next = '';
  async function load() {
    const p = new URLSearchParams({page_size: PAGE});
    for (const [k, v] of Object.entries(filter)) {
      if (!v) continue;
      if (k === 'until') {
        const d = new Date(v); d.setDate(d.getDate() + 1); // the day given is included
        p.set(k, d.toISOString().slice(0, 10));
      } else p.set(k, v);
    }
    const tok = pages[pages.length - 1];
    if (tok) p.set('page_token', tok);
    const t0 = performance.now();
    const list = await api.call('/runs?' + p);
    clear(body);
    rows.clear();
    for (const r of list.runs) body.append(row(r));
    if (!list.runs.length) body.append(h('tr', {}, h('td', {colspan: 7}, 'No runs match.')));
    next = list.next_page_token || '';
    older.disabled = !next;
    newer.disabled = pages.length < 2;
    info.textContent = `Page ${pages.length}: ${list.runs.length} runs.`;
    window.flowRunsLoadedMs = performance.now() - t0; // read by the browser tests
  }
  function row(r) {
    const dur = r.started ? (r.finished ? new Date(r.finished) : new Date()) - new Date(r.started) : null;
    const tr = h('tr', {'data-run': r.id, 'data-state': r.state},
      h('td', {}, stateBadge(r.state)),
      h('td', {}, h('a', {href: '#/runs/' + encodeURIComponent(r.id)}, r.name || r.id), r.name ? h('div', {class: 'sub'}, r.id) : null),
      h('td', {}, r.workflow),
      h('td', {}, r.submitted_by || ''),
      h('td', {}, fmtTime(r.started || r.submitted)),
      h('td', {}, r.started ? fmtDuration(dur) : ''),
      h('td', {}, r.cluster || 'local'));
    rows.set(r.id, {tr, run: r});
    return tr;
  }
  older.addEventListener('click', () => { pages.push(next); load(); });
  newer.addEventListener('click', () => { pages.pop(); load(); });
  // Only what happens from now on: the team's history is in the list.
  const {last_event_id: cursor} = await api.call('/events/latest');
  await load();
  window.flowRunsShownAt = performance.now(); // since the page began loading; read by the browser tests

  // Live: any run's change of state reloads the page shown (one request,
  // at most every 300 ms), so that rows, order and paging stay the
  // daemon's; a run that changed is announced.
  let pending = null, dirty = false;
  const reload = () => {
    if (pending) { dirty = true; return; }
    pending = setTimeout(async () => {
      try { await load(); } catch { /* the next event tries again */ }
      pending = null;
      if (dirty) { dirty = false; reload(); } // changes that came while loading
    }, 300);
  };
  const stopEvents = api.follow('/events?last_event_id=' + cursor, (ev) => {
    if (ev.kind !== 'state') return;
    const known = rows.get(ev.run_id);
    if (known || pages.length === 1) reload();
    if (known && ev.data && ev.data.state) say(`Run ${known.run.name || known.run.id} is ${String(ev.data.state).toLowerCase()}`);
  });
  return () => { stopEvents(); clearTimeout(pending); };
}
