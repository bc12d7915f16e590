// Child process of bench.mjs: memory kept by a parsed, indexed BTF after skb discovery, with
// everything else collected. Run with --expose-gc. Prints bytes as JSON.
import { readFileSync } from 'node:fs';

const [, , distIndex, file] = process.argv;
const { Btf, skbFunctions } = await import(distIndex);
const settle = () => {
  for (let i = 0; i < 4; i++) globalThis.gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const before = settle();
const btf = Btf.parse(readFileSync(file));
btf.idsByName('sk_buff', 'struct');
const found = skbFunctions(btf).length;
const after = settle();
console.log(JSON.stringify({ retained: after - before, found, types: btf.maxTypeId }));
