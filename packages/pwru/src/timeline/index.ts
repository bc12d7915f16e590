/** The cross-node timeline: joins nodes' pwru JSON streams into one sequence per packet. */
export { estimateOffsets, type ClockEstimate, type Crossing } from './clock.js';
export { clockReferenceLine, sampleClocks } from './clock-reference.js';
export { parseInput, TimelineFollower, type StreamInput } from './follow.js';
export { clocksJson, clockLines, packetJson, packetText, timelineText } from './format.js';
export {
  joinStreams,
  wireKey,
  type Hop,
  type JoinOptions,
  type PacketTimeline,
  type Rewrite,
  type Timeline,
  type TimelineEvent,
} from './join.js';
export { podOfAnnotations, podsLine, resolvePods, RUNTIME_STATE_DIRS, type PodName } from './pods.js';
export {
  readStreams,
  StreamReader,
  TimelineError,
  WIRE_ID_FIELDS,
  type ClockReference,
  type NodeEvent,
  type NodeStream,
  type WireTuple,
} from './stream.js';
