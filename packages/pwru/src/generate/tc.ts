import type { Instruction } from 'bpf-asm-ts';
import { EventKind } from '../event.js';
import { generateProgram, type GenerateOptions } from './program.js';

/**
 * The fentry program for a tc program's entry function (`--filter-trace-tc`). Its argument is
 * the program's context, a `struct __sk_buff *` that is really the `struct sk_buff *`, so the
 * skb program applies as it is — every filter (pcap, mark, netns, ifname, skb expression) and
 * output section — with events of kind {@link EventKind.Tc}.
 */
export function generateTcProgram(o: Omit<GenerateOptions, 'shape'> & { readonly site: number }): Instruction[] {
  const { site, ...rest } = o;
  return generateProgram({ ...rest, shape: { kind: 'fentry', skbArg: 0, site, argCount: 1, eventKind: EventKind.Tc } });
}
