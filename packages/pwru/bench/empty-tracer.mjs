// The floor of per-packet cost: an empty tp_btf program (r0 = 0; exit) on each tracepoint named
// on the command line, held until SIGINT. What every tracer pays just to have a program run.
// Usage: node bench/empty-tracer.mjs kfree_skb consume_skb ...
import {
  AttachType,
  attachTracing,
  defaultBackend,
  Program,
  ProgramType,
  removeMemlockLimit,
  tracepointBtfId,
} from 'bpf-loader-ts';
import { exit, Mov, R0 } from 'bpf-asm-ts';

removeMemlockLimit(defaultBackend());
const held = [];
for (const name of process.argv.slice(2)) {
  const program = Program.load({
    name: 'empty_tp',
    type: ProgramType.TRACING,
    expectedAttachType: AttachType.TRACE_RAW_TP,
    attachBtfId: tracepointBtfId(name),
    instructions: [Mov.imm(R0, 0), exit()],
  });
  held.push(program, attachTracing(program, { attachType: AttachType.TRACE_RAW_TP, target: `tracepoint ${name}` }));
}
process.stdout.write('ready\n');
const stop = () => {
  for (const h of held.reverse()) h.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
setInterval(() => undefined, 1 << 30);
