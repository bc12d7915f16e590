import { verifierSuite } from './verifier-suite.js';

// The same combinations against Debian 6.1's verifier, which is stricter in places (e.g. a
// variable-size helper destination must be initialised stack).
if (process.env.BPF_TS_VM) verifierSuite(`Linux ${process.env.BPF_TS_VM} (test VM)`);
else console.log('skipped: 6.1 verifier tests run only inside the test VM (tools/vm/test.sh)');
