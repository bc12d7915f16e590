/**
 * Test oracle: the running kernel's BTF as printed by `bpftool btf dump file ... ` (raw format),
 * with just enough of a reader to resolve member paths to byte offsets and sizes.
 */
import { execFileSync } from 'node:child_process';

interface RawType {
  kind: string;
  name: string;
  attrs: Record<string, number>;
  members: Array<{ name: string; typeId: number; bitsOffset: number; bitfieldSize: number }>;
}

/** The vmlinux BTF dump, parsed into types by id. */
export class BpftoolBtf {
  private readonly types = new Map<number, RawType>();
  private readonly byName = new Map<string, number>();

  constructor(path = '/sys/kernel/btf/vmlinux') {
    const text = execFileSync('bpftool', ['btf', 'dump', 'file', path], { encoding: 'utf8', maxBuffer: 1 << 30 });
    let cur: RawType | undefined;
    for (const line of text.split('\n')) {
      if (line.startsWith('[')) {
        const m = line.match(/^\[(\d+)\] (\w+) '([^']*)'(.*)$/);
        if (!m) continue;
        const attrs: Record<string, number> = {};
        for (const a of m[4]!.matchAll(/(\w+)=(-?\d+)/g)) attrs[a[1]!] = Number(a[2]);
        cur = { kind: m[2]!, name: m[3]!, attrs, members: [] };
        const id = Number(m[1]);
        this.types.set(id, cur);
        const key = `${cur.kind} ${cur.name}`;
        if (!this.byName.has(key)) this.byName.set(key, id);
      } else if (cur && line.startsWith('\t')) {
        const m = line.match(/^\t'([^']*)' type_id=(\d+) bits_offset=(\d+)(?: bitfield_size=(\d+))?/);
        if (m)
          cur.members.push({
            name: m[1]!,
            typeId: Number(m[2]),
            bitsOffset: Number(m[3]),
            bitfieldSize: Number(m[4] ?? 0),
          });
        const e = line.match(/^\t'([^']*)' val=(-?\d+)/);
        if (e) cur.members.push({ name: e[1]!, typeId: 0, bitsOffset: Number(e[2]), bitfieldSize: 0 });
      }
    }
  }

  /** Id of `struct x` / `union x` / `enum x` given as `"struct x"`. */
  id(kindAndName: string): number {
    const [kind, name] = kindAndName.split(' ') as [string, string];
    const id = this.byName.get(`${kind.toUpperCase()} ${name}`);
    if (id === undefined) throw new Error(`${kindAndName} not in BTF`);
    return id;
  }

  private resolve(id: number): RawType {
    let t = this.types.get(id)!;
    while (['TYPEDEF', 'CONST', 'VOLATILE', 'RESTRICT', 'TYPE_TAG'].includes(t.kind))
      t = this.types.get(t.attrs['type_id']!)!;
    return t;
  }

  /** Size in bytes of a type. */
  sizeOf(id: number): number {
    const t = this.resolve(id);
    if (t.kind === 'PTR') return 8;
    if (t.kind === 'ARRAY') return t.attrs['nr_elems']! * this.sizeOf(t.attrs['type_id']!);
    return t.attrs['size']!;
  }

  /** Size of a named struct/union. */
  sizeOfNamed(kindAndName: string): number {
    return this.sizeOf(this.id(kindAndName));
  }

  /** Byte offset and size of a member path (`a.b.c`), searching through anonymous members. */
  member(kindAndName: string, path: string): { offset: number; size: number } | undefined {
    let typeId = this.id(kindAndName);
    let offset = 0;
    for (const part of path.split('.')) {
      const hit = this.find(typeId, part);
      if (!hit) return undefined;
      offset += hit.bits / 8;
      typeId = hit.typeId;
    }
    return { offset, size: this.sizeOf(typeId) };
  }

  private find(typeId: number, name: string): { bits: number; typeId: number } | undefined {
    const t = this.resolve(typeId);
    for (const m of t.members) {
      if (m.name === name) return { bits: m.bitsOffset, typeId: m.typeId };
    }
    for (const m of t.members) {
      if (m.name !== '(anon)') continue;
      const inner = this.find(m.typeId, name);
      if (inner) return { bits: m.bitsOffset + inner.bits, typeId: inner.typeId };
    }
    return undefined;
  }

  /** Enumerators of `enum name` as name → value. */
  enumValues(name: string): Map<string, number> {
    const t = this.types.get(this.id(`enum ${name}`))!;
    return new Map(t.members.map((m) => [m.name, m.bitsOffset]));
  }

  /** Id of a named type of any kind (first match), e.g. `TYPEDEF btf_trace_kfree_skb`. */
  idOf(kind: string, name: string): number | undefined {
    return this.byName.get(`${kind} ${name}`);
  }
}

/** Whether bpftool and kernel BTF are available (tests skip with a reason otherwise). */
export function haveBpftoolBtf(): boolean {
  try {
    execFileSync('bpftool', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
