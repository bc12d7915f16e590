import type { Btf } from './btf.js';
import { MAX_RESOLVE_DEPTH } from './resolve.js';

/**
 * A C spelling of a type for messages and listings: `struct sk_buff *`, `const struct sk_buff *`,
 * `u32`, `char[16]`, `int (*)(struct sk_buff *)`. Anonymous types are spelled `struct {...}`.
 */
export function typeName(btf: Btf, id: number, depth = 0): string {
  if (depth > MAX_RESOLVE_DEPTH) return '<cycle>';
  const t = btf.type(id);
  switch (t.kind) {
    case 'void':
      return 'void';
    case 'int':
    case 'float':
    case 'typedef':
      return t.name;
    case 'struct':
    case 'union':
      return `${t.kind} ${t.name || '{...}'}`;
    case 'enum':
    case 'enum64':
      return `enum ${t.name || '{...}'}`;
    case 'fwd':
      return `${t.fwdKind} ${t.name}`;
    case 'ptr': {
      const target = btf.type(t.type);
      if (target.kind === 'func_proto') return protoName(btf, target.id, '(*)', depth);
      const inner = typeName(btf, t.type, depth + 1);
      return inner.endsWith('*') ? `${inner}*` : `${inner} *`;
    }
    case 'const':
    case 'volatile':
    case 'restrict': {
      const target = btf.type(t.type);
      const inner = typeName(btf, t.type, depth + 1);
      return target.kind === 'ptr' ? `${inner} ${t.kind}` : `${t.kind} ${inner}`;
    }
    case 'type_tag':
      return typeName(btf, t.type, depth + 1);
    case 'array':
      return `${typeName(btf, t.type, depth + 1)}[${t.nelems}]`;
    case 'func':
      return protoName(btf, t.type, t.name, depth);
    case 'func_proto':
      return protoName(btf, t.id, '', depth);
    case 'var':
      return `${typeName(btf, t.type, depth + 1)} ${t.name}`;
    case 'datasec':
      return `SEC("${t.name}")`;
    case 'decl_tag':
      return `__tag("${t.name}")`;
  }
}

function protoName(btf: Btf, protoId: number, declarator: string, depth: number): string {
  const p = btf.type(protoId);
  if (p.kind !== 'func_proto') return `${typeName(btf, protoId, depth + 1)} ${declarator}`;
  const params = p.params.map((q) => typeName(btf, q.type, depth + 1));
  if (p.variadic) params.push('...');
  return `${typeName(btf, p.returnType, depth + 1)} ${declarator}(${params.length ? params.join(', ') : 'void'})`;
}
