/**
 * What the chosen backend cannot see of a packet's path, said once at start so that an empty or
 * partial trace is not taken for "the packet never went there".
 *
 * The tracepoint backend sees an skb only where the kernel has an skb tracepoint. A locally
 * generated packet meets its first one at `net_dev_queue`, after routing and the OUTPUT and
 * POSTROUTING netfilter hooks: a filter on its addresses before OUTPUT-chain NAT matches nothing
 * (issue 19: DNAT in the sender's OUTPUT chain, `--filter-track-skb`, 0 events). Kprobes and
 * fentry see `ip_output`, `nf_hook_slow` and the rest.
 */
import type { Backend, KernelFeatures } from './backend.js';
import type { PwruOptions } from './flags/spec.js';

/** The one INFO line about what `backend` cannot see of the path `opts` filters on, or undefined. */
export function invisiblePath(
  opts: Pick<PwruOptions, 'filterPcap' | 'filterSkbExpr' | 'filterTrackSkb'>,
  backend: Backend,
  features: KernelFeatures,
): string | undefined {
  if (backend !== 'tracepoint') return undefined;
  const filtered = opts.filterPcap.trim() !== '' || opts.filterSkbExpr.trim() !== '' || opts.filterTrackSkb;
  if (!filtered) return undefined;
  const better = features.kprobeMulti
    ? '--backend=kprobe-multi'
    : features.kprobes
      ? '--backend=kprobe'
      : features.fentry
        ? '--backend=fentry'
        : undefined;
  return (
    'The tracepoint backend cannot see locally generated packets before net_dev_queue (routing, the OUTPUT and POSTROUTING netfilter hooks, OUTPUT-chain NAT) ' +
    'nor routing and netfilter between netif_receive_skb and the socket: a filter on addresses before OUTPUT-chain NAT matches nothing there; ' +
    (better
      ? `${better} sees those functions`
      : 'the kprobe and fentry backends see those functions, and this kernel has neither')
  );
}
