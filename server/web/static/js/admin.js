// Admin: the team's tokens (a new one's secret is shown once), SSH keys
// (the daemon keeps the private half), and what the team's runs use.

import * as api from './api.js';
import {h, clear, fmtTime, fmtBytes, fmtDuration, say} from './dom.js';

const enc = encodeURIComponent;

export async function show(main) {
  if (!api.can('admin')) { main.append(h('h1', {}, 'Admin'), h('p', {}, 'Only an admin token manages the team.')); return; }
  const tokens = h('section', {'aria-labelledby': 'tokens-h'});
  const keys = h('section', {'aria-labelledby': 'keys-h'});
  const usage = h('section', {'aria-labelledby': 'usage-h'});
  main.append(h('h1', {}, 'Admin'), tokens, keys, usage);
  await Promise.all([drawTokens(tokens), drawKeys(keys), drawUsage(usage)]);
}

async function drawTokens(sec) {
  const ts = await api.call('/tokens');
  const name = h('input', {id: 'tok-name', required: true});
  const role = h('select', {id: 'tok-role'}, ['viewer', 'operator', 'admin'].map((r) => h('option', {value: r}, r)));
  const shown = h('div', {id: 'tok-new', 'aria-live': 'polite'});
  clear(sec).append(h('h2', {id: 'tokens-h'}, 'Tokens'),
    h('table', {class: 'runs', id: 'tokens'},
      h('thead', {}, h('tr', {}, ['Name', 'Role', 'Created', 'Last used', 'State', ''].map((c) => h('th', {scope: 'col'}, c)))),
      h('tbody', {}, ts.map((t) => h('tr', {'data-token': t.id},
        h('td', {}, t.name), h('td', {}, t.role), h('td', {}, fmtTime(t.created)), h('td', {}, fmtTime(t.last_used)),
        h('td', {}, t.revoked ? `revoked ${fmtTime(t.revoked)}` : 'live'),
        h('td', {}, t.revoked ? '' : h('button', {type: 'button', class: 'danger small', 'aria-label': `Revoke token ${t.name}`, onclick: async () => {
          await api.call('/tokens/' + enc(t.id), {method: 'DELETE'});
          say(`Token ${t.name} revoked`);
          if (api.current()) drawTokens(sec);
        }}, 'Revoke')))))),
    h('form', {class: 'inline', onsubmit: async (e) => {
      e.preventDefault();
      const t = await api.call('/tokens', {method: 'POST', json: {name: name.value, role: role.value}});
      await drawTokens(sec);
      sec.querySelector('#tok-new').replaceChildren(h('p', {}, `Token ${t.token.name} (${t.token.role}). Copy it now: it is not shown again.`),
        h('input', {readonly: true, value: t.secret, id: 'tok-secret', 'aria-label': 'The new token', size: 60}));
      sec.querySelector('#tok-secret').select();
    }}, h('label', {for: 'tok-name'}, 'New token named'), name, h('label', {for: 'tok-role'}, 'role'), role, h('button', {type: 'submit'}, 'Create')),
    shown);
}

async function drawKeys(sec) {
  const ks = await api.call('/ssh-keys');
  const name = h('input', {id: 'key-name', required: true});
  clear(sec).append(h('h2', {id: 'keys-h'}, 'SSH keys'),
    h('p', {class: 'help'}, 'The daemon keeps each private key; add the public half to the cluster account\'s authorized_keys.'),
    h('ul', {class: 'keys'}, ks.map((k) => h('li', {}, h('strong', {}, k.name), ` ${k.fingerprint} · ${fmtTime(k.created)}`,
      h('pre', {class: 'json'}, k.public_key)))),
    h('form', {class: 'inline', onsubmit: async (e) => {
      e.preventDefault();
      await api.call('/ssh-keys', {method: 'POST', json: {name: name.value}});
      drawKeys(sec);
    }}, h('label', {for: 'key-name'}, 'Generate a key named'), name, h('button', {type: 'submit'}, 'Generate')));
}

async function drawUsage(sec) {
  const u = await api.call('/usage');
  clear(sec).append(h('h2', {id: 'usage-h'}, `Usage of team ${u.team}`),
    h('dl', {class: 'meta'},
      h('dt', {}, 'Runs'), h('dd', {}, Object.entries(u.runs).map(([k, v]) => `${v} ${k.toLowerCase()}`).join(', ') || 'none'),
      h('dt', {}, 'Jobs recorded'), h('dd', {}, String(u.jobs)),
      h('dt', {}, 'CPU time'), h('dd', {}, fmtDuration(u.cpu_ns / 1e6) || '0 s'),
      h('dt', {}, 'Disk (runs)'), h('dd', {}, fmtBytes(u.bytes)),
      h('dt', {}, 'By workflow'), h('dd', {}, Object.entries(u.workflows).map(([k, v]) => `${k}: ${v}`).join(', ') || 'none')));
}
