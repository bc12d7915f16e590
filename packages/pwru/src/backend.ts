import { MissingKernelFeatureError, PwruError } from './errors.js';

/** The tracing backends pwru can use. */
export type Backend = 'kprobe' | 'kprobe-multi' | 'tracepoint' | 'fentry';

/** Every backend `--backend` accepts. */
export const BACKENDS: readonly Backend[] = ['kprobe', 'kprobe-multi', 'tracepoint', 'fentry'];

/** What the kernel can do, as far as backend selection cares. */
export interface KernelFeatures {
  /** kprobes can be created (`CONFIG_KPROBES`, the kprobe PMU or tracefs kprobe_events). */
  readonly kprobes: boolean;
  /** `BPF_TRACE_KPROBE_MULTI` links attach (`CONFIG_FPROBE`, 5.18+). */
  readonly kprobeMulti: boolean;
  /** tracefs available_filter_functions is readable. */
  readonly availableFilterFunctions: boolean;
  /** tp_btf programs load (5.5+ with BTF). */
  readonly tpBtf: boolean;
  /** fentry programs load and attach (trampolines; some kernels refuse with EPERM). */
  readonly fentry: boolean;
}

const WHY: Record<Backend, [feature: string, hint: string]> = {
  kprobe: ['kprobe', 'the kernel was built without CONFIG_KPROBES; use --backend=tracepoint'],
  'kprobe-multi': [
    'kprobe-multi link',
    'needs Linux 5.18+ with CONFIG_FPROBE; use --backend=kprobe or --backend=tracepoint',
  ],
  tracepoint: ['tp_btf (BTF-enabled raw tracepoint) program', 'needs Linux 5.5+ with CONFIG_DEBUG_INFO_BTF'],
  fentry: [
    'fentry trampoline',
    'needs Linux 5.5+ with BPF trampolines on this architecture; use --backend=kprobe or --backend=tracepoint',
  ],
};

function has(b: Backend, f: KernelFeatures): boolean {
  switch (b) {
    case 'kprobe':
      return f.kprobes;
    case 'kprobe-multi':
      return f.kprobeMulti;
    case 'tracepoint':
      return f.tpBtf;
    case 'fentry':
      return f.fentry;
  }
}

/** The fallback named when the kernel refuses a backend it seems to have. */
const INSTEAD: Partial<Record<Backend, string>> = { fentry: 'use --backend=kprobe or --backend=tracepoint' };

/**
 * Picks the backend: the one asked for (an error naming the missing feature if the kernel lacks
 * it), else upstream's auto-detection — kprobe-multi when it works and available_filter_functions
 * is readable, else kprobe — and, where kprobes are unavailable, the tracepoint backend.
 * `refusals` are what the kernel said when a backend's feature probe failed (e.g. the fentry
 * load's errno); the error quotes it instead of guessing at the kernel's version.
 */
export function chooseBackend(
  requested: string,
  features: KernelFeatures,
  refusals: Partial<Record<Backend, string | undefined>> = {},
): Backend {
  if (requested !== '') {
    if (!(BACKENDS as readonly string[]).includes(requested))
      throw new PwruError(`Invalid tracing backend: ${requested}`);
    const b = requested as Backend;
    if (!has(b, features)) {
      const [feature, hint] = WHY[b];
      const refusal = refusals[b];
      throw new MissingKernelFeatureError(
        feature,
        refusal ? `the kernel refuses it (${refusal}); ${INSTEAD[b] ?? hint}` : hint,
      );
    }
    return b;
  }
  if (features.kprobeMulti && features.availableFilterFunctions) return 'kprobe-multi';
  if (features.kprobes) return 'kprobe';
  if (features.tpBtf) return 'tracepoint';
  throw new MissingKernelFeatureError(
    'kprobe, kprobe-multi and tp_btf',
    'pwru needs one of them; this kernel has none',
  );
}
