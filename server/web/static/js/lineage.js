// Lineage: where an output file came from, as a graph of files and the
// jobs that made them, back to the workflow's inputs. Each job links to
// its run's page.

import * as api from './api.js';
import {h} from './dom.js';
import {draw} from './graph.js';

const enc = encodeURIComponent;

export async function show(main, {run, path}) {
  main.append(h('h1', {}, 'Lineage of ', h('code', {}, path)),
    h('p', {}, h('a', {href: '#/runs/' + enc(run)}, '← run ' + run)));
  const root = await api.call(`/runs/${enc(run)}/lineage/${path.split('/').map(enc).join('/')}`);
  const nodes = [], edges = [], list = h('ul', {class: 'lineage'});
  let n = 0;
  const walk = (f, parentJob, li) => {
    const fk = 'f' + (n++);
    nodes.push({key: fk, lines: [f.name, f.sha1 ? f.sha1.replace('sha1$', '').slice(0, 12) : ''], class: 'io file', label: `file ${f.name}`});
    if (parentJob) edges.push({from: fk, to: parentJob});
    const item = h('li', {}, h('code', {}, f.name));
    li.append(item);
    if (!f.job) { item.append(' — an input'); return; }
    const jk = 'j' + (n++);
    const href = `#/runs/${enc(f.run)}?job=${enc(f.job)}`;
    nodes.push({key: jk, lines: [f.job, f.tool || ''], class: 'step st-succeeded', label: `job ${f.job} of run ${f.run}`,
      onselect: () => { location.hash = href; }});
    edges.push({from: jk, to: fk});
    item.append(' ← made by ', h('a', {href}, f.job), ` (run ${f.run})`);
    if (f.repeated) { item.append(' (shown above)'); return; }
    const sub = h('ul');
    item.append(sub);
    for (const i of f.inputs || []) walk(i, jk, sub);
  };
  walk(root, null, list);
  main.append(h('div', {class: 'graphbox', id: 'lineage-graph'}, draw(nodes, edges, {title: 'Lineage graph', rankdir: 'RL'})),
    h('h2', {}, 'As a list'), list);
}
