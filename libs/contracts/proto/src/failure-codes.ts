import { FailureCode } from './generated/marquee/v1/worker_link';

type FailureCodeKey = Exclude<keyof typeof FailureCode, 'UNSPECIFIED'>;

/**
 * Why a request failed, as the gateway and the worker speak of it and clients see it in the
 * OpenAI error body: a {@link FailureCode} of the .proto, in lower case without its prefix
 * (`FAILURE_CODE_CONTEXT_LENGTH_EXCEEDED` is `context_length_exceeded`). Both ends switch over
 * these; a value added to the enum shows up here.
 */
export type RequestFailureCode = Lowercase<FailureCodeKey>;

const byWireValue = new Map<string, RequestFailureCode>(
  Object.entries(FailureCode)
    .filter(([key]) => key !== 'UNSPECIFIED')
    .map(([key, wire]) => [wire, key.toLowerCase() as RequestFailureCode]),
);

/** Every {@link RequestFailureCode}, in the .proto's order. */
export const REQUEST_FAILURE_CODES: readonly RequestFailureCode[] = [
  ...byWireValue.values(),
];

export function isRequestFailureCode(code: string): code is RequestFailureCode {
  return (REQUEST_FAILURE_CODES as readonly string[]).includes(code);
}

/** The enum value a code travels as. */
export function toWireFailureCode(code: RequestFailureCode): FailureCode {
  return FailureCode[code.toUpperCase() as Uppercase<RequestFailureCode>];
}

/**
 * The code an enum value stands for, or null for `FAILURE_CODE_UNSPECIFIED` and for a value this
 * build does not know (proto-loader hands those over as numbers).
 */
export function failureCodeFromWire(
  wire: FailureCode | number,
): RequestFailureCode | null {
  return typeof wire === 'string' ? (byWireValue.get(wire) ?? null) : null;
}
