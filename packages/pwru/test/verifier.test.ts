import { bpfmapVerifierSuite } from './verifier-bpfmap.js';
import { trackingVerifierSuite, verifierSuite } from './verifier-suite.js';

verifierSuite('host kernel');
trackingVerifierSuite('host kernel');
bpfmapVerifierSuite('host kernel');
