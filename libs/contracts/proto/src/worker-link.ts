import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Options } from '@grpc/proto-loader';
import type * as wire from './generated/marquee/v1/worker_link';
import {
  protobufFileName,
  protobufPackage,
} from './generated/marquee/v1/worker_link';
import type { Received, Sendable } from './proto-loader-shapes';

/** The gRPC package of the worker link. */
export const WORKER_LINK_PACKAGE = protobufPackage;
/** The service name inside {@link WORKER_LINK_PACKAGE}. */
export const WORKER_LINK_SERVICE = 'WorkerLink';
/** The proto file, relative to {@link protoRoot}. */
export const WORKER_LINK_PROTO = protobufFileName;

/**
 * proto-loader options shared by both ends, so both see the same JS shapes: camelCase fields,
 * int64 as numbers, enums as their names, every field filled in, a `kind`/`event` property naming
 * the set oneof. The generated types follow them (buf.gen.yaml, {@link Received}): change both
 * together.
 */
export const PROTO_LOADER_OPTIONS: Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

/**
 * Folder holding the `.proto` tree: next to a bundled app (`dist/apps/x/proto`, copied as an
 * asset) or in this lib's source tree.
 */
export function protoRoot(): string {
  const candidates = [join(__dirname, 'proto'), join(__dirname, '..', 'proto')];
  const found = candidates.find((dir) =>
    existsSync(join(dir, WORKER_LINK_PROTO)),
  );
  if (!found)
    throw new Error(
      `${WORKER_LINK_PROTO} not found in ${candidates.join(' or ')}`,
    );
  return found;
}

/**
 * A request's event as a worker builds it (`started`, `tokens`, `finished` or `failed`; fields
 * left out go out as their defaults). The gateway reads it as `Received<wire.RequestEvent>`.
 */
export type RequestEventMessage = Sendable<wire.RequestEvent>;
/** A report as a worker writes it on its stream (`hello`, `heartbeat` or `batch`). */
export type WorkerReportMessage = Sendable<wire.WorkerReport>;
/** A command as the gateway writes it to a worker (`cancel`). */
export type GatewayCommandMessage = Sendable<wire.GatewayCommand>;
/** A generated token's log-probability, whole (as the gateway receives it, as a worker builds it). */
export type TokenLogprobMessage = Received<wire.TokenLogprob>;
/** How one choice ended, whole. */
export type ChoiceFinishMessage = Received<wire.ChoiceFinish>;
/** One input's embedding, whole: `data` holds packed little-endian float32 values. */
export type EmbeddingMessage = Received<wire.Embedding>;

/** Packs float32 values little-endian, as {@link EmbeddingMessage} `data` carries them. */
export function packFloat32(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++)
    view.setFloat32(i * 4, values[i], true);
  return out;
}

/** Unpacks {@link EmbeddingMessage} `data`. */
export function unpackFloat32(data: Uint8Array): Float32Array {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Float32Array(Math.floor(data.byteLength / 4));
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
