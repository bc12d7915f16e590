import { verifierSuite } from './verifier-suite.js';

verifierSuite('host kernel');
