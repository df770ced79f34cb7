import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Options } from '@grpc/proto-loader';

/** The gRPC package of the worker link. */
export const WORKER_LINK_PACKAGE = 'marquee.v1';
/** The service name inside {@link WORKER_LINK_PACKAGE}. */
export const WORKER_LINK_SERVICE = 'WorkerLink';
/** The proto file, relative to {@link protoRoot}. */
export const WORKER_LINK_PROTO = 'marquee/v1/worker_link.proto';

/**
 * proto-loader options shared by both ends, so both see the same JS shapes:
 * camelCase fields, int64 as numbers, a `kind`/`event` property naming the set oneof.
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

/** Finish reasons a worker reports. */
export type WireFinishReason = 'stop' | 'length';

export interface HelloMessage {
  workerId: string;
  models: string[];
}

export interface HeartbeatMessage {
  workerId: string;
  sentAtMs: number;
  activeRequests: number;
}

export interface StartedEvent {
  workerId: string;
  promptTokens: number;
  /** From the worker taking the job off its queue to this report, ms. */
  pickupMs?: number;
}

/** An alternative token at a position, as {@link TokenLogprobMessage.topLogprobs} lists them. */
export interface TopLogprobMessage {
  token: string;
  /** Natural log of the probability. */
  logprob: number;
  /** The token's raw bytes (a Buffer when received). */
  bytes: Uint8Array;
}

/** A generated token's log-probability and the most likely alternatives at its position. */
export interface TokenLogprobMessage extends TopLogprobMessage {
  /** Most likely first. */
  topLogprobs: TopLogprobMessage[];
}

export interface TokenFrameEvent {
  choiceIndex: number;
  text: string;
  tokens: number;
  /** One entry per token with text, when the request asked for logprobs; empty or absent otherwise. */
  logprobs?: TokenLogprobMessage[];
}

/** One input's embedding: `data` holds packed little-endian float32 values. */
export interface EmbeddingMessage {
  index: number;
  data: Uint8Array;
}

export interface ChoiceFinishMessage {
  index: number;
  finishReason: WireFinishReason;
  completionTokens: number;
}

export interface FinishedEvent {
  promptTokens: number;
  completionTokens: number;
  choices: ChoiceFinishMessage[];
  /** Embedding requests: one vector per input; empty or absent for generation. */
  embeddings?: EmbeddingMessage[];
}

export interface FailedEvent {
  code: string;
  message: string;
  param: string;
  promptTokens: number;
  completionTokens: number;
}

/** One request's event, as it travels (one of the four fields is set; `event` names it). */
export interface RequestEventMessage {
  requestId: string;
  event?: 'started' | 'tokens' | 'finished' | 'failed';
  started?: StartedEvent | null;
  tokens?: TokenFrameEvent | null;
  finished?: FinishedEvent | null;
  failed?: FailedEvent | null;
}

/** A worker-to-gateway message. */
export interface WorkerReportMessage {
  kind?: 'hello' | 'heartbeat' | 'batch';
  hello?: HelloMessage | null;
  heartbeat?: HeartbeatMessage | null;
  batch?: {
    events: RequestEventMessage[];
    /** When the worker sent it, Unix ms (sub-millisecond). */
    sentAtUnixMs?: number;
  } | null;
}

/** A gateway-to-worker message. */
export interface GatewayCommandMessage {
  kind?: 'cancel';
  cancel?: {
    requestId: string;
    /** The gateway holds no such request: whatever ran is not billed. */
    unheld?: boolean;
  } | null;
}

/** Codes in {@link FailedEvent.code}; both ends switch over them. */
export const REQUEST_FAILURE_CODES = [
  'context_length_exceeded',
  'invalid_prompt',
  'cancelled',
  'model_error',
  'worker_lost',
  'no_worker_available',
  'queue_unavailable',
] as const;
export type RequestFailureCode = (typeof REQUEST_FAILURE_CODES)[number];

export function isRequestFailureCode(code: string): code is RequestFailureCode {
  return (REQUEST_FAILURE_CODES as readonly string[]).includes(code);
}

/** Packs float32 values little-endian, as {@link EmbeddingMessage.data} carries them. */
export function packFloat32(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++)
    view.setFloat32(i * 4, values[i], true);
  return out;
}

/** Unpacks {@link EmbeddingMessage.data}. */
export function unpackFloat32(data: Uint8Array): Float32Array {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Float32Array(Math.floor(data.byteLength / 4));
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
