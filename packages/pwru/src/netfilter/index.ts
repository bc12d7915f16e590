export { NF, NfEngine, NfFlags, netfilterAt, type EventNetfilter, type NfEngineName } from './section.js';
export {
  netfilterFieldsFromBtf,
  NETFILTER_MODULES,
  type NetfilterFields,
  type NfFunc,
  type NfPointer,
} from './fields.js';
export { emitNetfilterEntry, generateNetfilterReturn, NF_KEY_TAG } from './emit.js';
export {
  netfilterJson,
  netfilterText,
  nfFamilyName,
  nfHookName,
  nfVerdictName,
  NF_VERDICTS,
  type JsonNetfilter,
} from './names.js';
export { checkNetfilterBackend, planNetfilter } from './plan.js';
