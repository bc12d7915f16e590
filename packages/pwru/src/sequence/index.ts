/** The per-packet view (`--output-sequence`, `--input-json`). */
export { PacketSequencer, endOf, type PacketEnd, type PacketStory } from './group.js';
export { hopFromJson, splitFunc, type Hop, type JsonHop } from './hop.js';
export { parseJsonHops, readJsonHops } from './input.js';
export { SequenceCollector } from './live.js';
export { changes, formatSequenceJson, formatSequenceText, sequenceJson } from './view.js';
export { renderSequenceHtml, writeSequenceHtml } from './html.js';
