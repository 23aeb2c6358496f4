// Systems: how the daemon confines jobs, and each cluster: reachable,
// partitions up or down, free space.

import * as api from './api.js';
import {h, fmtBytes, fmtDuration} from './dom.js';

export async function show(main) {
  main.append(h('h1', {}, 'Systems'), h('p', {}, 'Checking the clusters…'));
  const sys = await api.call('/systems');
  main.lastChild.remove();
  main.append(h('p', {}, 'Jobs on this machine run ', sys.isolation === 'sandbox' ? 'in a sandbox (each sees only its own files).' : 'unconfined, as the daemon\'s user.'));
  if (!sys.clusters.length) { main.append(h('p', {}, 'No cluster is configured: runs go on the daemon\'s machine.')); return; }
  main.append(h('table', {class: 'runs', id: 'clusters'},
    h('thead', {}, h('tr', {}, ['Cluster', 'Reachable', 'Latency', 'Partitions', 'Free space', 'Problem'].map((c) => h('th', {scope: 'col'}, c)))),
    h('tbody', {}, sys.clusters.map((c) => h('tr', {},
      h('th', {scope: 'row'}, c.name),
      h('td', {}, h('span', {class: 'badge ' + (c.reachable ? 'st-complete' : 'st-executor_error')}, c.reachable ? '✓ yes' : '✗ no')),
      h('td', {}, c.reachable ? fmtDuration(c.latency_ns / 1e6) : ''),
      h('td', {}, (c.partitions || []).map((p) => h('div', {},
        `${p.name}${p.default ? ' (default)' : ''}: ${p.up ? '▲ up' : '▼ down'} · `,
        Object.entries(p.nodes || {}).map(([k, v]) => `${v} ${k}`).join(', ')))),
      h('td', {}, c.free_bytes ? fmtBytes(c.free_bytes) + ' in ' + c.workdir : ''),
      h('td', {}, c.error || ''))))));
}
