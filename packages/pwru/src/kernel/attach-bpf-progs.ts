import type { Logger } from '../log.js';
import type { Attachment, KernelSession, LoadedProgram } from './session.js';

/** Whether a loaded program traces a tc/XDP program (rather than a kernel function or tracepoint). */
export function isBpfProgTracer(p: LoadedProgram): boolean {
  return p.planned.attach.type === 'bpf-prog';
}

/**
 * Attaches the tc tracers, then the XDP ones, logging as upstream ("Attaching tc-bpf progs...",
 * "Attaching xdp progs..."), appending to `attachments` as it goes so a failure half way leaves
 * nothing the caller cannot detach. Returns how many were ignored.
 */
export async function attachBpfProgs(
  loaded: readonly LoadedProgram[],
  session: KernelSession,
  log: Logger,
  signal: AbortSignal,
  attachments: Attachment[],
): Promise<number> {
  let ignored = 0;
  for (const [hook, words] of [
    ['tc', 'Attaching tc-bpf progs...'],
    ['xdp', 'Attaching xdp progs...'],
  ] as const) {
    const progs = loaded.filter((p) => p.planned.attach.type === 'bpf-prog' && p.planned.attach.target.hook === hook);
    if (progs.length === 0) continue;
    log.info(words);
    for (const p of progs) {
      if (signal.aborted) break;
      const r = await session.attach(p, () => undefined, signal);
      attachments.push(...r.attachments);
      ignored += r.ignored;
    }
  }
  return ignored;
}
