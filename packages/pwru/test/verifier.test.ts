import { trackingVerifierSuite, verifierSuite } from './verifier-suite.js';

verifierSuite('host kernel');
trackingVerifierSuite('host kernel');
