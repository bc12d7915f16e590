/**
 * Decoded BTF types. Types refer to each other by numeric type id (as libbpf does), so a decoded
 * type is small and cheap; use `Btf.type(id)` to follow a reference.
 */

/** Fields shared by every decoded type. */
export interface BtfTypeCommon {
  /** Type id (0 is void). */
  readonly id: number;
  /** Name, or `''` for an anonymous type. */
  readonly name: string;
  /** Offset of the name in the string section (split BTF: continues from the base). */
  readonly nameOff: number;
  /** The `kind_flag` bit of the type's info word. */
  readonly kindFlag: boolean;
}

/** Type id 0: `void`. */
export interface VoidType extends BtfTypeCommon {
  readonly kind: 'void';
}

/** `BTF_KIND_INT`: an integer (or char/bool) of `bits` bits. */
export interface IntType extends BtfTypeCommon {
  readonly kind: 'int';
  readonly size: number;
  /** Bit offset of the value inside its storage (always 0 in kernel BTF). */
  readonly bitOffset: number;
  readonly bits: number;
  /** Raw `BTF_INT_ENCODING` bits: 1 signed, 2 char, 4 bool. */
  readonly encoding: number;
  readonly signed: boolean;
}

/** Kinds that are a name or qualifier over another type. */
export interface RefType extends BtfTypeCommon {
  readonly kind: 'ptr' | 'typedef' | 'volatile' | 'const' | 'restrict' | 'type_tag';
  /** Referenced type id. */
  readonly type: number;
}

/** `BTF_KIND_PTR`. */
export interface PtrType extends RefType {
  readonly kind: 'ptr';
}
/** `BTF_KIND_TYPEDEF`. */
export interface TypedefType extends RefType {
  readonly kind: 'typedef';
}
/** `BTF_KIND_VOLATILE`. */
export interface VolatileType extends RefType {
  readonly kind: 'volatile';
}
/** `BTF_KIND_CONST`. */
export interface ConstType extends RefType {
  readonly kind: 'const';
}
/** `BTF_KIND_RESTRICT`. */
export interface RestrictType extends RefType {
  readonly kind: 'restrict';
}
/** `BTF_KIND_TYPE_TAG`: `__attribute__((btf_type_tag("...")))` on a pointee. */
export interface TypeTagType extends RefType {
  readonly kind: 'type_tag';
}

/** `BTF_KIND_ARRAY`. */
export interface ArrayType extends BtfTypeCommon {
  readonly kind: 'array';
  /** Element type id. */
  readonly type: number;
  readonly indexType: number;
  readonly nelems: number;
}

/** One member of a struct or union. */
export interface BtfMember {
  /** Member name, `''` for an anonymous struct/union member. */
  readonly name: string;
  readonly nameOff: number;
  readonly type: number;
  /** Offset in bits from the start of the enclosing struct/union. */
  readonly bitOffset: number;
  /** Bitfield width in bits, 0 when the member is not a bitfield. */
  readonly bitfieldSize: number;
}

/** `BTF_KIND_STRUCT` / `BTF_KIND_UNION`. */
export interface CompositeType extends BtfTypeCommon {
  readonly kind: 'struct' | 'union';
  readonly size: number;
  readonly members: readonly BtfMember[];
}
/** `BTF_KIND_STRUCT`. */
export interface StructType extends CompositeType {
  readonly kind: 'struct';
}
/** `BTF_KIND_UNION`. */
export interface UnionType extends CompositeType {
  readonly kind: 'union';
}

/** One enumerator of a 32-bit enum. */
export interface EnumValue {
  readonly name: string;
  readonly nameOff: number;
  /** Signed when the enum is signed, else unsigned 32-bit. */
  readonly value: number;
}

/** `BTF_KIND_ENUM`: enumerators of up to 32 bits. */
export interface EnumType extends BtfTypeCommon {
  readonly kind: 'enum';
  readonly size: number;
  readonly signed: boolean;
  readonly values: readonly EnumValue[];
}

/** One enumerator of a 64-bit enum. */
export interface Enum64Value {
  readonly name: string;
  readonly nameOff: number;
  readonly value: bigint;
}

/** `BTF_KIND_ENUM64`: enumerators of up to 64 bits. */
export interface Enum64Type extends BtfTypeCommon {
  readonly kind: 'enum64';
  readonly size: number;
  readonly signed: boolean;
  readonly values: readonly Enum64Value[];
}

/** `BTF_KIND_FWD`: a forward declaration of a struct or union. */
export interface FwdType extends BtfTypeCommon {
  readonly kind: 'fwd';
  readonly fwdKind: 'struct' | 'union';
}

/** Linkage of a FUNC (static, global, extern). */
export type FuncLinkage = 'static' | 'global' | 'extern';

/** `BTF_KIND_FUNC`: a named function; `type` is its FUNC_PROTO. */
export interface FuncType extends BtfTypeCommon {
  readonly kind: 'func';
  readonly type: number;
  readonly linkage: FuncLinkage;
}

/** One parameter of a function prototype. */
export interface FuncParam {
  /** Parameter name, `''` when unnamed. */
  readonly name: string;
  readonly nameOff: number;
  readonly type: number;
}

/** `BTF_KIND_FUNC_PROTO`: return type and parameters. */
export interface FuncProtoType extends BtfTypeCommon {
  readonly kind: 'func_proto';
  /** Return type id (0 = void). */
  readonly returnType: number;
  /** Parameters, without the trailing `...` marker. */
  readonly params: readonly FuncParam[];
  /** True when the last raw parameter is the `...` marker (type 0, no name). */
  readonly variadic: boolean;
}

/** Linkage of a VAR. */
export type VarLinkage = 'static' | 'global' | 'extern';

/** `BTF_KIND_VAR`: a global or static variable. */
export interface VarType extends BtfTypeCommon {
  readonly kind: 'var';
  readonly type: number;
  readonly linkage: VarLinkage;
}

/** One variable placed in a data section. */
export interface DatasecVar {
  readonly type: number;
  readonly offset: number;
  readonly size: number;
}

/** `BTF_KIND_DATASEC`: a section such as `.data..percpu` and the variables in it. */
export interface DatasecType extends BtfTypeCommon {
  readonly kind: 'datasec';
  readonly size: number;
  readonly vars: readonly DatasecVar[];
}

/** `BTF_KIND_FLOAT`. */
export interface FloatType extends BtfTypeCommon {
  readonly kind: 'float';
  readonly size: number;
}

/** `BTF_KIND_DECL_TAG`: `btf_decl_tag("...")` on a type, member or parameter. */
export interface DeclTagType extends BtfTypeCommon {
  readonly kind: 'decl_tag';
  readonly type: number;
  /** -1 for the type itself, else the member/parameter index. */
  readonly componentIdx: number;
}

/** Any decoded BTF type, discriminated by `kind`. */
export type BtfType =
  | VoidType
  | IntType
  | PtrType
  | ArrayType
  | StructType
  | UnionType
  | EnumType
  | FwdType
  | TypedefType
  | VolatileType
  | ConstType
  | RestrictType
  | FuncType
  | FuncProtoType
  | VarType
  | DatasecType
  | FloatType
  | DeclTagType
  | TypeTagType
  | Enum64Type;

/** Maps a kind name to its decoded type, for kind-discriminated lookups. */
export interface BtfTypeByKind {
  void: VoidType;
  int: IntType;
  ptr: PtrType;
  array: ArrayType;
  struct: StructType;
  union: UnionType;
  enum: EnumType;
  fwd: FwdType;
  typedef: TypedefType;
  volatile: VolatileType;
  const: ConstType;
  restrict: RestrictType;
  func: FuncType;
  func_proto: FuncProtoType;
  var: VarType;
  datasec: DatasecType;
  float: FloatType;
  decl_tag: DeclTagType;
  type_tag: TypeTagType;
  enum64: Enum64Type;
}
