export { CT, CT_TUPLE, CtFlags, ctAt, type CtTuple, type EventCt } from './section.js';
export { ctFieldsFromBtf, CtFieldsError, type CtFields, type CtTupleFields } from './fields.js';
export { emitCt } from './emit.js';
export {
  ctJson,
  ctNames,
  ctStateName,
  ctStatusNames,
  ctText,
  ctTupleText,
  type CtNames,
  type JsonCt,
  type JsonCtTuple,
} from './names.js';
