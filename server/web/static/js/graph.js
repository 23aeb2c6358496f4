// Drawing graphs: dagre lays the nodes out, we draw them as SVG. Used for
// a run's step graph and for lineage.

import dagre from '../vendor/dagre.esm.js';
import {s} from './dom.js';

const CHAR = 7.5; // px per character of the 13px UI font, near enough to size boxes

// draw lays out nodes [{key, lines: [text...], class, label, onselect}] and
// edges [{from, to, label}] and returns an <svg>. Nodes with onselect are
// focusable buttons (Enter or Space selects them).
export function draw(nodes, edges, {rankdir = 'LR', title = 'Graph'} = {}) {
  const g = new dagre.graphlib.Graph();
  g.setGraph({rankdir, nodesep: 18, ranksep: 48, marginx: 8, marginy: 8});
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) {
    const longest = Math.max(...n.lines.map((l) => String(l).length), 4);
    g.setNode(n.key, {width: Math.min(320, 24 + longest * CHAR), height: 14 + 17 * n.lines.length, n});
  }
  for (const e of edges) if (g.hasNode(e.from) && g.hasNode(e.to)) g.setEdge(e.from, e.to, {label: e.label});
  dagre.layout(g);
  const {width, height} = g.graph();
  const svg = s('svg', {class: 'graph', width: Math.ceil(width), height: Math.ceil(height),
    viewBox: `0 0 ${Math.ceil(width)} ${Math.ceil(height)}`, role: 'group', 'aria-label': title});
  svg.append(s('defs', {}, s('marker', {id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse'},
    s('path', {d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrowhead'}))));
  for (const e of g.edges()) {
    const pts = g.edge(e).points.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
    svg.append(s('polyline', {class: 'edge', points: pts, 'marker-end': 'url(#arrow)'}));
  }
  for (const key of g.nodes()) {
    const {x, y, width: w, height: ht, n} = g.node(key);
    const grp = s('g', {class: 'node ' + (n.class || ''), transform: `translate(${(x - w / 2).toFixed(1)},${(y - ht / 2).toFixed(1)})`,
      'data-key': key, 'aria-label': n.label || n.lines.join(', ')});
    grp.append(s('rect', {width: w, height: ht, rx: n.round ? ht / 2 : 4}));
    n.lines.forEach((line, i) => grp.append(s('text', {x: 12, y: 20 + 17 * i, class: i ? 'sub' : 'title'}, line)));
    grp.append(s('title', {}, n.label || n.lines.join('\n')));
    if (n.onselect) {
      grp.setAttribute('tabindex', '0');
      grp.setAttribute('role', 'button');
      grp.addEventListener('click', n.onselect);
      grp.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); n.onselect(); }
      });
    }
    svg.append(grp);
  }
  return svg;
}
