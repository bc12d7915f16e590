export { parseArgs, checkSupported, FlagParseError, UnsupportedFlagError, type ParsedArgs } from './parse.js';
export { formatUsage, formatFlagUsages } from './usage.js';
export { FLAGS, defaultOptions, type FlagSpec, type FlagKind, type PwruOptions } from './spec.js';
export { parseMark, formatMark, NO_MARK_FILTER, type MarkFilter } from './mark.js';
export { FlagValueError } from './values.js';
