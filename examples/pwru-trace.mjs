#!/usr/bin/env node
// @ts-check
// A script on pwru's trace(): where do UDP datagrams to a closed port go? Prints each kernel
// function (or tracepoint) that saw them, then how many drops there were.
// Run as root: node examples/pwru-trace.mjs
import { trace } from 'pwru';
import { loopbackNetns } from './netns.mjs';

const PORT = 4343;
const ns = loopbackNetns();
let drops = 0;
try {
  const events = trace(
    { filterPcap: `udp and dst port ${PORT}`, outputLimitLines: 50 },
    {
      signal: AbortSignal.timeout(60_000),
      // Once every probe is attached, send three datagrams nobody listens for.
      onAttached: () => setTimeout(() => ns.send(PORT, 3), 50),
    },
  );
  for await (const ev of events) {
    console.log(
      `${ev.func.padEnd(40)} ${ev.tuple?.saddr}:${ev.tuple?.sport} -> ${ev.tuple?.daddr}:${ev.tuple?.dport} len ${ev.len}`,
    );
    if (ev.func.startsWith('kfree_skb') && ++drops === 3) break; // leaving the loop detaches everything
  }
  console.log(`${drops} datagrams dropped`);
} finally {
  ns.destroy();
}
