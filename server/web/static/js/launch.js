// Launch: the team's registered workflows, and for one of them a form
// made from its CWL inputs. Files are uploaded with the launch (or named
// by a path the team may read); the daemon checks everything again.

import * as api from './api.js';
import {h, add, fmtTime, say} from './dom.js';

const enc = encodeURIComponent;

export async function show(main, {name, params}) {
  const ws = await api.call('/workflows');
  if (!name) return list(main, ws);
  return form(main, name, params.get('version') || '', ws.filter((w) => w.name === name));
}

function list(main, ws) {
  main.append(h('h1', {}, 'Launch a workflow'));
  if (!ws.length) {
    main.append(h('p', {}, 'No workflow is registered yet: flow workflows register NAME VERSION wf.cwl'));
    return;
  }
  main.append(h('table', {class: 'runs'},
    h('thead', {}, h('tr', {}, ['Workflow', 'Version', 'Main document', 'Registered'].map((c) => h('th', {scope: 'col'}, c)))),
    h('tbody', {}, ws.map((w) => h('tr', {},
      h('td', {}, h('a', {href: `#/launch/${enc(w.name)}?version=${enc(w.version)}`}, w.name)),
      h('td', {}, w.version), h('td', {}, w.main), h('td', {}, fmtTime(w.created)))))));
}

// nonNull strips null from a union: the input is optional.
function nonNull(t) {
  if (t.kind === 'union') {
    const rest = t.union.filter((u) => u.kind !== 'null');
    return {type: rest.length === 1 ? rest[0] : {kind: 'union', union: rest}, optional: rest.length < t.union.length};
  }
  return {type: t, optional: t.kind === 'null'};
}

let uid = 0;

// widget makes the control of one value of type t and returns
// {el, value(uploads) → CWL value or undefined, check() → error text}.
function widget(t, def, label) {
  const id = 'in-' + (++uid);
  const labelled = (el) => { el.id = id; el.setAttribute('aria-label', label); return el; };
  switch (t.kind) {
    case 'boolean': {
      const el = labelled(h('input', {type: 'checkbox', checked: def === true}));
      return {el, value: () => el.checked, check: () => ''};
    }
    case 'int': case 'long': case 'float': case 'double': {
      const integer = t.kind === 'int' || t.kind === 'long';
      const el = labelled(h('input', {type: 'number', step: integer ? '1' : 'any', value: def ?? ''}));
      return {el, value: () => (el.value === '' ? undefined : Number(el.value)),
        check: () => (el.value !== '' && (isNaN(Number(el.value)) || (integer && !Number.isInteger(Number(el.value)))) ? `${label} must be ${integer ? 'a whole number' : 'a number'}` : '')};
    }
    case 'enum': {
      const el = labelled(h('select', {}, h('option', {value: ''}, '—'), t.symbols.map((s) => h('option', {value: s, selected: s === def}, s))));
      return {el, value: () => el.value || undefined, check: () => ''};
    }
    case 'File': case 'Directory': {
      const isFile = t.kind === 'File';
      const file = isFile ? h('input', {type: 'file', 'aria-label': `${label}: upload a file`}) : null;
      const path = h('input', {type: 'text', placeholder: 'or a team data path', value: def && (def.path || def.location) || '', 'aria-label': `${label}: path`});
      const el = h('div', {class: 'filepick', id}, file, path);
      return {el, value: (uploads) => {
        if (file && file.files.length) {
          const f = file.files[0];
          let n = f.name.replace(/[/\\]/g, '_') || 'upload';
          while (uploads.some((u) => u.name === n)) n = '_' + n;
          uploads.push({name: n, file: f});
          return {class: 'File', location: 'uploads/' + n};
        }
        return path.value ? {class: t.kind, path: path.value} : undefined;
      }, check: () => ''};
    }
    case 'array': {
      const items = [];
      const ul = h('ul', {class: 'items', 'aria-label': label});
      const add = (v) => {
        const w = widget(t.items, v, `${label} item ${items.length + 1}`);
        const li = h('li', {}, w.el, h('button', {type: 'button', class: 'small', 'aria-label': `Remove ${label} item`, onclick: () => {
          items.splice(items.indexOf(w), 1); li.remove();
        }}, 'Remove'));
        items.push(w);
        ul.append(li);
      };
      (Array.isArray(def) ? def : []).forEach(add);
      const el = h('div', {id, class: 'array'}, ul, h('button', {type: 'button', class: 'small', onclick: () => add(undefined)}, `Add ${label} item`));
      return {el, value: (up) => { const vs = items.map((w) => w.value(up)).filter((v) => v !== undefined); return vs.length ? vs : undefined; },
        check: () => items.map((w) => w.check()).filter(Boolean).join('; ')};
    }
    case 'record': {
      const fields = (t.fields || []).map((f) => ({f, w: widget(nonNull(f.type).type, def && def[f.id], `${label}.${f.id}`)}));
      const el = h('fieldset', {id}, h('legend', {}, label), fields.map(({f, w}) => h('div', {class: 'field'}, h('label', {for: w.el.id}, f.id), w.el)));
      return {el, value: (up) => Object.fromEntries(fields.map(({f, w}) => [f.id, w.value(up)]).filter(([, v]) => v !== undefined)),
        check: () => fields.map(({w}) => w.check()).filter(Boolean).join('; ')};
    }
    case 'string': {
      const el = labelled(h('input', {type: 'text', value: def ?? ''}));
      return {el, value: () => (el.value === '' ? undefined : el.value), check: () => ''};
    }
    default: { // Any, unions of several types: JSON
      const el = labelled(h('textarea', {rows: 2, placeholder: 'JSON'}));
      el.value = def === undefined ? '' : JSON.stringify(def);
      return {el, value: () => (el.value.trim() === '' ? undefined : JSON.parse(el.value)),
        check: () => { try { if (el.value.trim()) JSON.parse(el.value); return ''; } catch { return `${label} is not valid JSON`; } }};
    }
  }
}

async function form(main, name, version, versions) {
  const desc = await api.call(`/workflows/${enc(name)}/inputs` + (version ? `?version=${enc(version)}` : ''));
  const wf = desc.workflow;
  add(main, h('h1', {}, `Launch ${wf.name}`), h('p', {class: 'help'}, `Version ${wf.version} · ${wf.main}`),
    desc.label ? h('p', {}, desc.label) : null, desc.doc ? h('p', {class: 'doc'}, desc.doc) : null);
  if (versions.length > 1) {
    main.append(h('p', {}, 'Other versions: ', versions.filter((v) => v.version !== wf.version).map((v) =>
      [h('a', {href: `#/launch/${enc(name)}?version=${enc(v.version)}`}, v.version), ' '])));
  }
  const fields = desc.inputs.map((inp) => {
    const {type, optional} = nonNull(inp.type);
    const w = widget(type, inp.default, inp.label || inp.id);
    const required = !optional && !inp.has_default;
    const err = h('p', {class: 'error', id: w.el.id + '-err', role: 'alert'});
    const hint = [type.kind === 'array' ? `list of ${type.items.kind}` : type.kind, required ? 'required' : 'optional',
      inp.has_default ? `default ${JSON.stringify(inp.default)}` : ''].filter(Boolean).join(' · ');
    const div = h('div', {class: 'field', 'data-input': inp.id},
      h('label', {for: w.el.id}, inp.label || inp.id, required ? h('span', {'aria-hidden': 'true'}, ' *') : null),
      w.el, h('p', {class: 'help'}, hint), inp.doc ? h('p', {class: 'doc'}, inp.doc) : null, err);
    return {inp, w, required, err, div};
  });
  const cluster = h('input', {id: 'launch-cluster', placeholder: 'this machine'});
  const result = h('p', {class: 'error', role: 'alert', id: 'launch-error'});
  const submit = h('button', {type: 'submit', id: 'launch-submit'}, 'Launch');
  const f = h('form', {class: 'launch', id: 'launch-form', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    result.textContent = '';
    const uploads = [], inputs = {};
    let bad = null;
    for (const x of fields) {
      let msg = x.w.check(), v;
      if (!msg) {
        try { v = x.w.value(uploads); } catch { msg = `${x.inp.id} is not valid`; }
      }
      if (!msg && v === undefined && x.required) msg = `${x.inp.label || x.inp.id} is required`;
      x.err.textContent = msg;
      x.w.el.setAttribute('aria-invalid', msg ? 'true' : 'false');
      if (msg) bad = bad || x;
      else if (v !== undefined) inputs[x.inp.id] = v;
    }
    if (bad) { (bad.w.el.querySelector('input,select,textarea') || bad.w.el).focus(); say('The form has errors'); return; }
    const body = new FormData();
    body.append('trigger', JSON.stringify({version: wf.version, inputs, cluster: cluster.value || undefined}));
    for (const u of uploads) body.append('upload', u.file, u.name);
    submit.disabled = true;
    try {
      const sub = await api.call(`/workflows/${enc(name)}/runs`, {method: 'POST', body});
      location.hash = '#/runs/' + enc(sub.id);
    } catch (x) {
      result.textContent = x.message;
      submit.disabled = false;
    }
  }},
  fields.map((x) => x.div),
  h('div', {class: 'field'}, h('label', {for: 'launch-cluster'}, 'Cluster'), cluster, h('p', {class: 'help'}, 'optional: a cluster of the daemon (see Systems)')),
  api.can('submit') ? submit : h('p', {}, 'A viewer token cannot launch runs.'), result);
  main.append(f);
}
