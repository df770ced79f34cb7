import * as nodeModule from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** A tensor in host memory, as the addon takes and gives it (fp16 as raw 16-bit words). */
export interface HostTensor {
  type: 'float32' | 'float16' | 'int64';
  dims: readonly number[];
  data: Float32Array | Uint16Array | BigInt64Array;
}

/**
 * A tensor kept in the session's device memory (GPU memory on CUDA) between runs: a run's
 * output bound to `'device'`, fed as a later run's input without a copy through the host.
 */
export interface DeviceTensor {
  readonly dims: number[];
  readonly type: HostTensor['type'];
  /** A host copy; only for tensors in host memory (the CPU provider's). */
  toHost(): HostTensor['data'];
  /** Frees its memory now instead of at garbage collection; idempotent. */
  release(): void;
}

/**
 * Where a run leaves each output: `host`, a typed array of all of it; `device`, a DeviceTensor;
 * `last-float32`, for [batch, positions, vocab] logits, a Float32Array [batch, vocab] of each
 * row's last position only (read back from the device and widened from fp16 off the JS thread).
 */
export type OutputPlacement = 'host' | 'device' | 'last-float32';

/**
 * An ONNX Runtime session whose runs bind inputs and outputs (IO binding): host inputs are
 * copied in, device inputs are used in place, and outputs stay on the device when asked to.
 */
export interface NativeSession {
  readonly inputNames: string[];
  readonly outputNames: string[];
  readonly provider: 'cpu' | 'cuda';
  /**
   * Each input's element type (`float32`, `float16`, `int64`, else ONNX's name such as `bool`)
   * and dims, -1 where the graph leaves them symbolic.
   */
  readonly inputTypes: Record<string, { type: string; dims: number[] }>;
  /**
   * Runs the graph once. Errors from ONNX Runtime throw with its message.
   * @returns each requested output: a typed array for `'host'` and `'last-float32'`, a
   *   DeviceTensor for `'device'`.
   */
  run(
    feeds: Record<string, HostTensor | DeviceTensor>,
    outputs: Record<string, OutputPlacement>,
  ): Record<string, HostTensor['data'] | DeviceTensor>;
  /**
   * The same run on a libuv worker thread, leaving the event loop free meanwhile; ONNX
   * Runtime's errors reject with its message, bad arguments throw at once.
   */
  runAsync(
    feeds: Record<string, HostTensor | DeviceTensor>,
    outputs: Record<string, OutputPlacement>,
  ): Promise<Record<string, HostTensor['data'] | DeviceTensor>>;
  /**
   * A new [rows, heads, length, headDim] tensor in this session's device memory whose row `i`
   * holds the last `keeps[i]` positions of row `rows[i]` of `sources[i]`, right-aligned, zeros
   * before them: KV-cache rows composed into a batch without leaving the device. A source may
   * be null where its keep is 0.
   */
  gather(
    type: 'float32' | 'float16',
    dims: readonly [number, number, number, number],
    sources: readonly (DeviceTensor | null)[],
    rows: readonly number[],
    keeps: readonly number[],
  ): DeviceTensor;
  /** Frees the session; later runs throw. */
  release(): void;
}

/** The addon's exports (native/ort-addon). */
export interface OrtAddon {
  NativeSession: new (
    modelPath: string,
    options?: {
      provider?: 'cpu' | 'cuda';
      intraOpThreads?: number;
      deviceId?: number;
    },
  ) => NativeSession;
  /** The ONNX Runtime it runs on (onnxruntime-node's own library). */
  ortVersion: string;
  /** Device tensors made and not yet freed, all sessions together (for leak checks). */
  liveDeviceTensors(): number;
}

/**
 * Where `npm run build:addon` leaves the addon; `MARQUEE_ORT_ADDON` points elsewhere (a
 * deployment that ships it beside the worker).
 */
export function ortAddonPath(): string {
  return (
    process.env.MARQUEE_ORT_ADDON ??
    join(
      process.cwd(),
      'native',
      'ort-addon',
      'build',
      'Release',
      'marquee_ort.node',
    )
  );
}

const loaded = new Map<string, OrtAddon>();

/**
 * Loads the addon, or returns undefined when it was not built. It links against
 * onnxruntime-node's `libonnxruntime.so.1`, which is loaded first so one ONNX Runtime serves
 * the process.
 */
export function loadOrtAddon(path = ortAddonPath()): OrtAddon | undefined {
  if (!existsSync(path)) return undefined;
  let addon = loaded.get(path);
  if (!addon) {
    // Through the namespace, so webpack leaves `createRequire` to Node in the built worker.
    const load = nodeModule.createRequire(join(process.cwd(), 'noop.js'));
    load('onnxruntime-node');
    addon = load(path) as OrtAddon;
    loaded.set(path, addon);
  }
  return addon;
}
