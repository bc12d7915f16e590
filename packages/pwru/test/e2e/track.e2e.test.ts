import { trackScenarios } from './track-scenarios.js';

// The host kernel (6.18, no kprobes, no fentry): the tracepoint backend tracks by address and
// forgets freed skbs at the kfree_skb/consume_skb tracepoints, after the event programs, so the
// free itself still shows the post-NAT tuple.
trackScenarios({ backend: 'tracepoint', lastFunc: 'kfree_skb\\(SKB_DROP_REASON_NO_SOCKET\\)' });
