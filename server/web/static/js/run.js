// A run's page: its step graph (coloured by state, with a word and symbol
// for each), a timeline of every job, a job's details and logs, inputs,
// outputs, and what the role allows (cancel, re-run). Live: the run's
// event stream redraws it.

import * as api from './api.js';
import {h, clear, add, stateBadge, stateWord, stateSymbol, stateClass, fmtTime, fmtDuration, fmtBytes, say} from './dom.js';
import {draw} from './graph.js';

const enc = encodeURIComponent;

// topStep is the top-level step a job belongs to: main/align/3 → align.
function topStep(job) {
  const p = job.split('/');
  return p.length > 1 ? p[1] : p[0];
}

// latest keeps each job's newest attempt.
function latest(attempts) {
  const by = new Map();
  for (const a of attempts) {
    const old = by.get(a.job);
    if (!old || a.attempt >= old.attempt) by.set(a.job, a);
  }
  return [...by.values()].sort((a, b) => (a.started < b.started ? -1 : a.started > b.started ? 1 : a.job < b.job ? -1 : 1));
}

// submittedFiles lists the File inputs that came with the run (relative
// locations, in its directory): they can be downloaded again.
function submittedFiles(v, out = []) {
  if (Array.isArray(v)) v.forEach((x) => submittedFiles(x, out));
  else if (v && typeof v === 'object') {
    const loc = v.class === 'File' ? String(v.location || v.path || '') : '';
    if (loc && !loc.startsWith('/') && !/^[a-z]+:/i.test(loc) && !loc.split('/').includes('..')) out.push(loc);
    else Object.values(v).forEach((x) => submittedFiles(x, out));
  }
  return out;
}

// stepState sums up a step's jobs: one state and counts. A job is
// recorded when it ends, so a step of a running run that has not said
// "step done" is still running, whatever its recorded jobs say.
function stepState(jobs, running) {
  const c = {running: 0, done: 0, failed: 0, skipped: 0, reused: 0};
  for (const j of jobs) {
    if (j.state === 'running') c.running++;
    else if (j.state === 'failed' || j.state === 'damaged') c.failed++;
    else if (j.state === 'skipped') c.skipped++;
    else if (j.state === 'reused') { c.reused++; c.done++; }
    else c.done++;
  }
  let st = 'waiting';
  if (c.running || (running && jobs.length)) st = 'running';
  else if (c.failed) st = 'failed';
  else if (jobs.length && c.skipped === jobs.length) st = 'skipped';
  else if (jobs.length && c.reused === jobs.length) st = 'reused';
  else if (jobs.length) st = 'succeeded';
  return {st, c};
}

export async function show(main, {id, params}) {
  let run = await api.call('/runs/' + enc(id));
  let graph = null;
  try { graph = await api.call(`/runs/${enc(id)}/graph`); } catch (e) { graph = {error: e.message}; }
  let jobs = [];
  let selected = params.get('job') || '';
  let tail = null;
  const ended = new Set(); // top-level steps whose end the run's log told

  const head = h('div', {class: 'runhead'});
  const actions = h('div', {class: 'actions', role: 'group', 'aria-label': 'Run actions'});
  const graphBox = h('div', {class: 'graphbox', id: 'graph'});
  const timeline = h('div', {id: 'timeline', class: 'timeline'});
  const details = h('section', {id: 'details', class: 'details', 'aria-live': 'polite', 'aria-labelledby': 'details-h'});
  const files = h('section', {id: 'files', 'aria-labelledby': 'files-h'});
  main.append(head, actions,
    h('section', {'aria-labelledby': 'graph-h'}, h('h2', {id: 'graph-h'}, 'Steps'), graphBox),
    h('section', {'aria-labelledby': 'timeline-h'}, h('h2', {id: 'timeline-h'}, 'Timeline'), timeline),
    details, files);

  function drawHead() {
    const dur = run.started ? (run.finished ? new Date(run.finished) : new Date()) - new Date(run.started) : null;
    add(clear(head),
      h('h1', {}, run.name || run.id, ' ', stateBadge(run.state)),
      h('dl', {class: 'meta'},
        h('dt', {}, 'Run'), h('dd', {}, run.id),
        h('dt', {}, 'Workflow'), h('dd', {}, run.workflow),
        h('dt', {}, 'Submitted'), h('dd', {}, fmtTime(run.submitted), run.submitted_by ? ` by ${run.submitted_by}` : ''),
        h('dt', {}, 'Started'), h('dd', {}, fmtTime(run.started) || 'not yet'),
        h('dt', {}, 'Duration'), h('dd', {}, fmtDuration(dur)),
        h('dt', {}, 'Cluster'), h('dd', {}, run.cluster || 'this machine')),
      run.error ? h('p', {class: 'error', role: 'alert'}, run.error) : null);
  }

  function drawActions() {
    clear(actions);
    if (api.can('cancel') && !['COMPLETE', 'EXECUTOR_ERROR', 'SYSTEM_ERROR', 'CANCELED'].includes(run.state)) {
      actions.append(h('button', {type: 'button', id: 'cancel', class: 'danger', onclick: async (e) => {
        if (!e.target.dataset.armed) { // a second click confirms
          e.target.dataset.armed = 'yes';
          e.target.textContent = 'Confirm: cancel the run';
          return;
        }
        e.target.disabled = true;
        try { run = await api.call(`/runs/${enc(id)}/cancel`, {method: 'POST'}); refresh(); } catch (x) { alert(x.message); e.target.disabled = false; }
      }}, 'Cancel run'));
    }
    if (api.can('submit')) {
      actions.append(h('button', {type: 'button', id: 'rerun', onclick: async (e) => {
        e.target.disabled = true;
        try {
          const sub = await api.call(`/runs/${enc(id)}/rerun`, {method: 'POST'});
          location.hash = '#/runs/' + enc(sub.id);
        } catch (x) { alert(x.message); e.target.disabled = false; }
      }}, 'Run again'));
    }
    actions.append(
      h('a', {class: 'button', href: `/api/v1/runs/${enc(id)}/provenance`, download: `${run.id}.prov.json`}, 'PROV-JSON'),
      h('a', {class: 'button', href: `/api/v1/runs/${enc(id)}/ro-crate`, download: `${run.id}-ro-crate.zip`}, 'RO-Crate'));
  }

  function drawGraph() {
    clear(graphBox);
    if (graph.error) { graphBox.append(h('p', {class: 'error'}, graph.error)); return; }
    const bySteps = new Map();
    for (const j of jobs) {
      const k = topStep(j.job);
      if (!bySteps.has(k)) bySteps.set(k, []);
      bySteps.get(k).push(j);
    }
    const nodes = graph.nodes.map((n) => {
      const key = n.kind + ':' + n.id;
      if (n.kind !== 'step') return {key, lines: [n.id], class: 'io ' + n.kind, round: n.kind === 'input', label: `${n.kind} ${n.id}`};
      const js = bySteps.get(n.id) || [];
      const {st, c} = stepState(js, !finished() && !ended.has(n.id));
      const lines = [n.id, `${stateSymbol(st)} ${stateWord(st)}`];
      if (js.length > 1) lines.push(`${c.done}/${js.length} done · ${c.running} running · ${c.failed} failed`);
      const label = `step ${n.id}: ${stateWord(st)}` + (js.length > 1 ? `, ${c.done} of ${js.length} jobs done, ${c.running} running, ${c.failed} failed` : '');
      return {key, lines, class: 'step ' + stateClass(st) + (js.some((j) => j.job === selected) ? ' selected' : ''), label,
        onselect: () => select(js.length ? js[js.length - 1].job : '', n.id)};
    });
    const edges = graph.edges.map((e) => ({from: e.from.kind + ':' + e.from.id, to: e.to.kind + ':' + e.to.id, label: (e.labels || []).join(', ')}));
    graphBox.append(draw(nodes, edges, {title: 'Step graph of the run'}));
    for (const g of graphBox.querySelectorAll('g.step')) g.setAttribute('data-state', (g.getAttribute('class').match(/st-(\w+)/) || [])[1] || '');
  }

  function drawTimeline() {
    clear(timeline);
    if (!jobs.length) { timeline.append(h('p', {}, run.state === 'QUEUED' ? 'The run is queued.' : 'No job has started yet.')); return; }
    const t0 = Math.min(...jobs.map((j) => +new Date(j.started)));
    const now = Date.now();
    const end = Math.max(...jobs.map((j) => (j.finished ? +new Date(j.finished) : now)), t0 + 1);
    const span = end - t0;
    const body = h('tbody');
    for (const j of jobs) {
      const a = +new Date(j.started), b = j.finished ? +new Date(j.finished) : now;
      const bar = h('div', {class: 'bar ' + stateClass(j.state)});
      bar.style.marginLeft = ((a - t0) / span * 100).toFixed(2) + '%';
      bar.style.width = Math.max(0.4, (b - a) / span * 100).toFixed(2) + '%';
      body.append(h('tr', {'data-job': j.job, class: j.job === selected ? 'selected' : null},
        h('th', {scope: 'row'}, h('button', {type: 'button', class: 'link', onclick: () => select(j.job)}, j.job)),
        h('td', {}, stateBadge(j.state)),
        h('td', {class: 'num'}, '+' + fmtDuration(a - t0)),
        h('td', {class: 'num'}, fmtDuration(b - a)),
        h('td', {class: 'barcell', 'aria-hidden': 'true'}, bar)));
    }
    timeline.append(h('table', {class: 'jobs', id: 'jobs'},
      h('caption', {class: 'visually-hidden'}, 'Every job of the run, in the order they started'),
      h('thead', {}, h('tr', {}, ['Job', 'State', 'Start', 'Duration', 'Timeline'].map((c) => h('th', {scope: 'col'}, c)))), body));
  }

  async function select(job, step) {
    selected = job;
    if (tail) { clearInterval(tail); tail = null; }
    const p = new URLSearchParams(location.hash.split('?')[1] || '');
    if (job) p.set('job', job);
    history.replaceState(null, '', '#/runs/' + enc(id) + '?' + p);
    drawGraph();
    for (const tr of timeline.querySelectorAll('tr[data-job]')) tr.classList.toggle('selected', tr.getAttribute('data-job') === job);
    const a = jobs.find((j) => j.job === job);
    add(clear(details), h('h2', {id: 'details-h', tabindex: '-1'}, a ? `Job ${a.job}` : `Step ${step || ''}`));
    if (!a) { details.append(h('p', {}, 'This step has not run.')); return; }
    const rows = [
      // The tool's path under the run's directory: where the daemon keeps it is not the reader's business.
      ['State', stateBadge(a.state)], ['Exit code', String(a.exit_code)], ['Tool', String(a.tool || '').replace(/^.*\/runs\/[^/]+\//, '')],
      ['Command line', h('code', {}, (a.command_line || []).join(' '))],
      ['Host', a.host || ''], ['Slurm job', a.job_id || ''],
      ['Started', fmtTime(a.started)], ['Finished', fmtTime(a.finished)],
      ['Duration', a.finished ? fmtDuration(new Date(a.finished) - new Date(a.started)) : 'running'],
      ['Max memory', a.max_rss_kib ? fmtBytes(a.max_rss_kib * 1024) : ''], ['CPU time', a.cpu_ns ? fmtDuration(a.cpu_ns / 1e6) : ''],
      ['Image', a.image ? `${a.image}${a.image_digest ? ' @ ' + a.image_digest : ''}` : 'none (host)'],
      ['Error', a.error || ''],
    ];
    details.append(h('dl', {class: 'meta'}, rows.filter(([, v]) => v !== '').map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])));
    const stderr = h('pre', {class: 'log', id: 'stderr', tabindex: '0', 'aria-label': 'stderr'});
    const stdout = h('pre', {class: 'log', id: 'stdout', tabindex: '0', 'aria-label': 'stdout'});
    details.append(h('h3', {}, 'stderr'), stderr, h('h3', {}, 'stdout'), stdout);
    // Both streams at once; one the job did not keep is not asked for.
    const streams = [[stderr, '', a.stderr || a.stderr_tail || a.state === 'running'], [stdout, '?stream=stdout', a.stdout]];
    const load = () => Promise.all(streams.map(async ([el, q, kept]) => {
      if (!kept) { el.textContent = '(none kept)'; return; }
      try {
        const text = await api.call(`/runs/${enc(id)}/logs/${a.job.split('/').map(enc).join('/')}${q}`);
        const atEnd = el.scrollTop + el.clientHeight >= el.scrollHeight - 4;
        el.textContent = text || '(empty)';
        if (atEnd) el.scrollTop = el.scrollHeight; // follow the tail unless the reader scrolled up
      } catch (e) { el.textContent = e.status === 404 ? '(none kept)' : `(${e.message})`; }
    }));
    await load();
    if (a.state === 'running') tail = setInterval(load, 2000);
    details.querySelector('h2').focus();
    say(`Showing job ${a.job}`);
  }

  async function drawFiles() {
    let list = [];
    try { list = await api.call(`/runs/${enc(id)}/files`); } catch { /* none yet */ }
    clear(files).append(h('h2', {id: 'files-h'}, 'Inputs and outputs'));
    files.append(h('h3', {}, 'Inputs'), h('pre', {class: 'json'}, JSON.stringify(run.inputs || {}, null, 2)));
    const sent = submittedFiles(run.inputs);
    if (sent.length) {
      files.append(h('ul', {class: 'inputs'}, sent.map((loc) => h('li', {},
        h('a', {href: `/api/v1/runs/${enc(id)}/submitted/${loc.split('/').map(enc).join('/')}`, download: loc.split('/').pop()}, loc)))));
    }
    files.append(h('h3', {}, 'Outputs'));
    if (!list.length) { files.append(h('p', {}, 'No output files yet.')); return; }
    files.append(h('ul', {class: 'outputs'}, list.map((f) => {
      const path = f.split('/').map(enc).join('/');
      return h('li', {}, h('a', {href: `/api/v1/runs/${enc(id)}/files/${path}`, download: f.split('/').pop()}, f), ' · ',
        h('a', {href: `#/lineage/${enc(id)}/${path}`}, 'lineage'));
    })));
  }

  function finished() {
    return ['COMPLETE', 'EXECUTOR_ERROR', 'SYSTEM_ERROR', 'CANCELED'].includes(run.state);
  }

  async function refresh() {
    try {
      [run, jobs] = await Promise.all([api.call('/runs/' + enc(id)), api.call(`/runs/${enc(id)}/steps`).then(latest)]);
    } catch { return; }
    const t0 = performance.now();
    drawHead(); drawActions(); drawGraph(); drawTimeline();
    window.flowRunDrawnMs = performance.now() - t0; // read by the browser tests
    const done = finished();
    main.setAttribute('data-finished', done ? 'true' : 'false');
    if (done) drawFiles();
    return done;
  }

  const finishedAtStart = await refresh();
  window.flowRunShownAt = performance.now(); // since the page began loading; read by the browser tests
  if (!finishedAtStart) drawFiles(); // the inputs, while it runs
  if (selected) select(selected);
  if (finishedAtStart) return () => { if (tail) clearInterval(tail); };
  // Live: every event of the run (replayed from its first) redraws it, at
  // most every 400 ms; jobs are recorded as they end, without an event, so
  // a running run is also redrawn every 3 s.
  let pending = null;
  const later = () => {
    if (pending) return;
    pending = setTimeout(async () => {
      pending = null;
      if (await refresh()) stop();
    }, 400);
  };
  const stopEvents = api.follow(`/runs/${enc(id)}/events`, (ev) => {
    if (ev.kind === 'step' && ev.data) {
      const path = String(ev.data.step || '').split('/');
      if (path.length === 2 && /^step (done|skipped)/.test(ev.data.message || '')) ended.add(path[1]);
    }
    later();
  });
  const ticker = setInterval(later, 3000);
  function stop() { stopEvents(); clearInterval(ticker); }
  return () => { stop(); clearTimeout(pending); if (tail) clearInterval(tail); };
}
