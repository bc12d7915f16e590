/**
 * `--output-html FILE`: the per-packet view as one self-contained HTML page (inline style and
 * script, the packets as embedded JSON; no network access). One lane per netns/device; each hop
 * is a step in its lane with the function and the time since the previous hop; NAT rewrites
 * (tuple changes) and drops (with their reason) are marked; a list selects the packet shown
 * (clicking sets `#packet-N` in the address, so a link can point at one packet).
 */
import { writeFileSync } from 'node:fs';
import { PwruError } from '../errors.js';
import type { PacketStory } from './group.js';
import { endText, sequenceJson } from './view.js';

/** Escapes `</script>` and friends inside the embedded JSON. */
function embed(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const STYLE = `
body{font:13px system-ui,sans-serif;margin:0;display:flex;height:100vh;color:#222}
#packets{width:330px;overflow:auto;border-right:1px solid #ccc;margin:0;padding:0;list-style:none}
#packets li{padding:6px 8px;border-bottom:1px solid #eee;cursor:pointer;font-family:monospace;font-size:12px}
#packets li.selected{background:#dbe9ff}
#packets li.drop .end{color:#b00020}
main{flex:1;overflow:auto;padding:12px}
h1{font-size:15px;margin:0 0 4px}
#summary{margin:0 0 10px;color:#555}
table.lanes{border-collapse:collapse}
table.lanes th{position:sticky;left:0;background:#f6f6f6;text-align:left;font-weight:normal;padding:4px 8px;border:1px solid #ddd;white-space:nowrap;font-family:monospace}
table.lanes td{border:1px solid #eee;min-width:120px;height:46px;padding:2px;vertical-align:top}
.hop{border:1px solid #7aa7e0;background:#eef5ff;border-radius:4px;padding:3px 5px;font-family:monospace;font-size:11px}
.hop .func{font-weight:bold;display:block}
.hop .lat{color:#555}
.hop.nat{border-color:#e0a000;background:#fff6dc}
.hop.drop{border-color:#b00020;background:#ffe5ea}
.hop .reason{color:#b00020;display:block}
.hop .note{color:#8a6d00;display:block}
`;

const SCRIPT = `
const packets = JSON.parse(document.getElementById('pwru-data').textContent);
const list = document.getElementById('packets');
const fmt = (ns) => ns === undefined ? '' : ns < 1e3 ? ns + 'ns' : ns < 1e6 ? (ns / 1e3).toFixed(1) + 'µs' : ns < 1e9 ? (ns / 1e6).toFixed(2) + 'ms' : (ns / 1e9).toFixed(2) + 's';
function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }
function show(i) {
  const p = packets[i];
  for (const li of list.children) li.classList.toggle('selected', Number(li.dataset.index) === i);
  document.getElementById('title').textContent = 'Packet ' + p.packet + ': ' + p.tuple;
  document.getElementById('summary').textContent = p.hops.length + ' hops' + (p.duration_ns !== undefined ? ' in ' + fmt(p.duration_ns) : '') + ', ' + p.endText;
  const lanes = [];
  const laneOf = (h) => (h.netns !== undefined ? 'netns ' + h.netns : 'netns ?') + ' / ' + (h.iface || 'no device');
  for (const h of p.hops) if (!lanes.includes(laneOf(h))) lanes.push(laneOf(h));
  const table = el('table', 'lanes');
  const rows = lanes.map((name) => { const tr = el('tr', 'lane'); tr.dataset.lane = name; tr.appendChild(el('th', '', name)); table.appendChild(tr); return tr; });
  p.hops.forEach((h, k) => {
    rows.forEach((tr) => {
      const td = el('td');
      if (tr.dataset.lane === laneOf(h)) {
        const nat = (h.changed || []).some((c) => c.startsWith('tuple '));
        const box = el('div', 'hop' + (nat ? ' nat' : '') + (h.reason && h.reason !== 'SKB_CONSUMED' ? ' drop' : ''));
        box.dataset.step = String(k + 1);
        box.appendChild(el('span', 'func', (k + 1) + '. ' + h.func));
        box.appendChild(el('span', 'lat', k === 0 ? 'first' : (h.since_prev_ns !== undefined ? '+' + fmt(h.since_prev_ns) : '')));
        if (h.reason) box.appendChild(el('span', 'reason', h.reason));
        if (nat) box.appendChild(el('span', 'note', 'NAT: ' + h.tuple));
        box.title = (h.changed || []).join(', ');
        td.appendChild(box);
      }
      tr.appendChild(td);
    });
  });
  const view = document.getElementById('view');
  view.replaceChildren(table);
}
packets.forEach((p, i) => {
  const li = el('li', p.end.kind === 'drop' ? 'drop' : '');
  li.dataset.index = String(i);
  li.appendChild(el('div', '', '#' + p.packet + ' ' + p.tuple));
  li.appendChild(el('div', 'end', p.hops.length + ' hops, ' + p.endText));
  li.addEventListener('click', () => { location.hash = 'packet-' + p.packet; });
  list.appendChild(li);
});
// The packet shown: #packet-N in the address (a link to one packet), else the first drop.
function fromHash() {
  const m = /^#packet-([0-9]+)$/.exec(location.hash);
  const i = m ? packets.findIndex((p) => p.packet === Number(m[1])) : -1;
  const drop = packets.findIndex((p) => p.end.kind === 'drop');
  return i >= 0 ? i : drop >= 0 ? drop : 0;
}
window.addEventListener('hashchange', () => show(fromHash()));
if (packets.length > 0) show(fromHash());
else document.getElementById('title').textContent = 'No packets';
`;

/** The page for `stories`. */
export function renderSequenceHtml(stories: readonly PacketStory[], title = 'pwru: packet paths'): string {
  const data = stories.map((s) => ({ ...sequenceJson(s), endText: endText(s.end) }));
  const esc = (t: string): string => t.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>${STYLE}</style></head>
<body><ul id="packets"></ul><main><h1 id="title"></h1><p id="summary"></p><div id="view"></div></main>
<script type="application/json" id="pwru-data">${embed(data)}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}

/** Writes the page to `file` (`--output-html`). */
export function writeSequenceHtml(file: string, stories: readonly PacketStory[]): void {
  try {
    writeFileSync(file, renderSequenceHtml(stories));
  } catch (e) {
    throw new PwruError(`cannot write the --output-html file ${file}: ${(e as Error).message}`);
  }
}
