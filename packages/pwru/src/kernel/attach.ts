import {
  AttachType,
  attachKprobeMulti,
  attachKprobes,
  attachRawTracepoint,
  attachTracing,
  type Link,
  type Program,
} from 'bpf-loader-ts';
import { PwruError } from '../errors.js';
import type { Ksyms } from '../ksyms.js';
import type { PlannedProgram } from '../plan/programs.js';
import { attachBpfProgTracer } from './bpf-progs.js';
import type { AttachResult, Attachment } from './session.js';

/** Wraps something closable as an {@link Attachment} covering `count` targets. */
function closing(count: number, close: () => void): Attachment {
  return {
    count,
    detach: async (progress) => {
      close();
      progress(count);
    },
  };
}

/**
 * Attaches one loaded program to its planned targets: a tp_btf or fentry link, one
 * kprobe-multi link with every address (module functions and duplicate names included), or a
 * batch of kprobes attached `batch` at a time. Targets the kernel cannot probe (missing, not
 * traceable, ambiguous) are counted as ignored, as upstream does.
 */
export async function attachPlanned(
  program: Program,
  planned: PlannedProgram,
  progress: (n: number) => void,
  signal: AbortSignal,
  batch: number,
  ksyms: Ksyms | undefined,
): Promise<AttachResult> {
  const a = planned.attach;
  switch (a.type) {
    case 'tracepoint': {
      const link = attachTracing(program, { attachType: AttachType.TRACE_RAW_TP, target: `tracepoint ${a.name}` });
      progress(1);
      return { attachments: [closing(1, () => link.close())], ignored: 0 };
    }
    case 'raw-tracepoints': {
      // One shared program; each link's cookie is its tracepoint's site (SITE_FROM_COOKIE).
      const links: Link[] = [];
      try {
        for (const t of a.tracepoints) {
          links.push(attachRawTracepoint(program, t.name, { cookie: BigInt(t.cookie) }));
          progress(1);
        }
      } catch (e) {
        for (const l of links) l.close();
        throw e;
      }
      return { attachments: [closing(links.length, () => links.forEach((l) => l.close()))], ignored: 0 };
    }
    case 'fentry':
    case 'fexit': {
      try {
        const attachType = a.type === 'fentry' ? AttachType.TRACE_FENTRY : AttachType.TRACE_FEXIT;
        const link = attachTracing(program, { attachType, target: `${a.type} ${a.function.name}` });
        progress(1);
        return { attachments: [closing(1, () => link.close())], ignored: 0 };
      } catch (e) {
        progress(1);
        // The loader's hint speaks of trampolines in general; for one function it would mislead.
        const error = (e as Error).message.split('\n')[0]!.split(' — ')[0]!;
        return { attachments: [], ignored: 1, failures: [{ target: `${a.type} ${a.function.name}`, error }] };
      }
    }
    case 'bpf-prog': {
      const attachment = attachBpfProgTracer(program, a.target, a.mode);
      progress(1);
      return { attachments: [attachment], ignored: 0 };
    }
    case 'kprobe-multi':
    case 'kprobe-multi-return': {
      const addresses: bigint[] = [];
      // The entry program reads the skb's position from the cookie (SKB_ARG_FROM_COOKIE).
      const cookies: bigint[] = [];
      let ignored = 0;
      const nameOf = (fn: (typeof a.functions)[number]): string => (fn.module ? `${fn.name}[${fn.module}]` : fn.name);
      const resolved = ksyms?.addressesOfMany(a.functions.map(nameOf));
      for (const fn of a.functions) {
        const found = resolved?.get(nameOf(fn)) ?? [];
        if (found.length === 0) ignored++;
        for (const x of found) {
          addresses.push((BigInt(x.hi) << 32n) | BigInt(x.lo));
          cookies.push(BigInt(fn.position));
        }
      }
      progress(a.functions.length);
      if (addresses.length === 0) return { attachments: [], ignored };
      const link = attachKprobeMulti(program, { addresses, cookies, retprobe: a.type === 'kprobe-multi-return' });
      return { attachments: [closing(a.functions.length - ignored, () => link.close())], ignored };
    }
    case 'kprobe':
    case 'kretprobe': {
      const retprobe = a.type === 'kretprobe';
      const set = await attachKprobes(
        program,
        a.functions.map((f) => f.name),
        { concurrency: batch, signal, onProgress: () => progress(1), retprobe },
      );
      const fatal = set.failures.find((f) => f.reason === 'error');
      if (fatal) {
        set.close();
        throw new PwruError(`opening ${a.type} ${fatal.symbol}: ${fatal.error.message}`);
      }
      return {
        attachments: [
          {
            count: set.size,
            // Opt-in: expedited RCU grace periods while detaching (bpf-loader-ts restores the knob).
            detach: (p) =>
              set.detach({
                concurrency: batch,
                onProgress: () => p(1),
                expediteRcu: process.env.PWRU_DETACH_EXPEDITE_RCU === '1',
              }),
          },
        ],
        ignored: set.failures.length,
        failures: set.failures.map((f) => ({
          target: `${a.type} ${f.symbol}`,
          error: f.error.message.split('\n')[0]!,
        })),
      };
    }
  }
}
