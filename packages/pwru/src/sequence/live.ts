/**
 * `--output-sequence` during a trace: collects the events as `--output-json` objects (with the
 * raw ktime) so the live view is the view of the same events saved and read back with
 * `--input-json`.
 */
import type { PwruEvent } from '../event.js';
import type { OutputContext } from '../output/context.js';
import { JsonPrinter } from '../output/json.js';
import type { OutputOptions } from '../output/options.js';
import { PacketSequencer, type PacketStory } from './group.js';
import { hopFromJson } from './hop.js';
import { formatSequenceJson, formatSequenceText } from './view.js';

/** Collects a live trace's events into packets. */
export class SequenceCollector {
  private readonly json: JsonPrinter;
  private readonly seq = new PacketSequencer();

  constructor(opts: OutputOptions, ctx: OutputContext) {
    this.json = new JsonPrinter({ ...opts, timestamp: 'current' }, ctx);
  }

  /** Adds one event. */
  add(ev: PwruEvent): void {
    this.seq.add(hopFromJson(this.json.toJson(ev), 'event'));
  }

  /** The packets so far. */
  stories(): PacketStory[] {
    return this.seq.result();
  }

  /** The view of everything added, as text or JSON lines. */
  format(json: boolean): string {
    const stories = this.seq.result();
    return json ? formatSequenceJson(stories) : formatSequenceText(stories);
  }
}
