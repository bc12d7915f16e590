import { bpfmapVerifierSuite } from './verifier-bpfmap.js';
import { trackingVerifierSuite, verifierSuite } from './verifier-suite.js';

// The same combinations against Debian 6.1's verifier, which is stricter in places (e.g. a
// variable-size helper destination must be initialised stack). There fentry and fexit programs
// load too, so the skb-tracking suite covers them.
if (process.env.BPF_TS_VM) {
  verifierSuite(`Linux ${process.env.BPF_TS_VM} (test VM)`);
  trackingVerifierSuite(`Linux ${process.env.BPF_TS_VM} (test VM)`);
  bpfmapVerifierSuite(`Linux ${process.env.BPF_TS_VM} (test VM)`);
} else console.log('skipped: 6.1 verifier tests run only inside the test VM (tools/vm/test.sh)');
