// The JS shapes @grpc/proto-loader works with under PROTO_LOADER_OPTIONS, derived from the
// generated message types. The generator's options cover field names, int64s, enums and bytes;
// two things no option of it expresses are done here: the property proto-loader adds naming a
// oneof's set member (`oneofs: true`), and the difference between what arrives (every field
// filled in, `defaults: true`) and what a sender may write (any field left out).

/** A oneof as the generated types write it (`oneof=unions-value`). */
interface OneofCase {
  $case: string;
  value: unknown;
}

type OneofKeys<T> = {
  [K in keyof T]-?: Extract<T[K], OneofCase> extends never ? never : K;
}[keyof T];

type Direction = 'received' | 'sendable';

type Shape<T, D extends Direction> = D extends 'received'
  ? Received<T>
  : Sendable<T>;

/**
 * Oneof `K` with cases `C`: the set member's property and `K` naming it (which a sender may leave
 * out), the other members absent; or nothing set at all.
 */
type OneofShape<
  K extends PropertyKey,
  C extends OneofCase,
  D extends Direction,
  Members extends string = C['$case'],
> =
  | (C extends OneofCase
      ? (D extends 'received'
          ? { [P in K]: C['$case'] }
          : { [P in K]?: C['$case'] }) & {
          [P in C['$case']]: Shape<C['value'], D>;
        } & { [P in Exclude<Members, C['$case']>]?: undefined }
      : never)
  | ({ [P in K]?: undefined } & { [P in Members]?: undefined });

/** `{ shape: A } | { shape: B }` to `A & B` (where A and B may be unions themselves). */
type IntersectShapes<U> = (
  U extends unknown ? (box: U) => void : never
) extends (box: infer I) => void
  ? I extends { shape: infer S }
    ? S
    : never
  : never;

/** Every oneof of message `T`, each as {@link OneofShape}. */
type Oneofs<T, D extends Direction> = [OneofKeys<T>] extends [never]
  ? unknown
  : IntersectShapes<
      {
        [K in OneofKeys<T>]: {
          shape: OneofShape<K, Extract<T[K], OneofCase>, D>;
        };
      }[OneofKeys<T>]
    >;

/**
 * A message as proto-loader hands it over (`defaults: true`, `oneofs: true`): every field set
 * (the unset ones to their defaults: 0, '', false, []); of a oneof, the set member's property plus
 * one named after the oneof that says which it is (`{ event: 'tokens', tokens: {...} }`), or
 * neither when none is set; an unset message field (outside a oneof) as null; an enum as its
 * value's name, or as a number for a value this build's .proto does not know (a newer peer's);
 * bytes as a Buffer.
 */
export type Received<T> = T extends undefined
  ? null
  : T extends Uint8Array
    ? Uint8Array
    : T extends readonly (infer E)[]
      ? Received<E>[]
      : T extends string
        ? string extends T
          ? string
          : T | number
        : T extends object
          ? { [K in Exclude<keyof T, OneofKeys<T>>]: Received<T[K]> } & Oneofs<
              T,
              'received'
            >
          : T;

/**
 * A message as proto-loader's serializer takes it: any field may be left out (it goes out as its
 * default, which proto3 does not tell apart from unset); of a oneof, one member at most (the
 * property naming it may be left out); bytes as any Uint8Array.
 */
export type Sendable<T> = T extends undefined
  ? null | undefined
  : T extends Uint8Array
    ? Uint8Array
    : T extends readonly (infer E)[]
      ? Sendable<E>[]
      : T extends string
        ? T
        : T extends object
          ? { [K in Exclude<keyof T, OneofKeys<T>>]?: Sendable<T[K]> } & Oneofs<
              T,
              'sendable'
            >
          : T;
