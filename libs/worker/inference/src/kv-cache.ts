import * as ort from 'onnxruntime-node';

/** Element type of the past/present tensors: fp32 or fp16 (as Uint16Array bit patterns). */
export type KvDtype = 'float32' | 'float16';

/** Shape of a model's KV cache, read from its inputs or `config.json`. */
export interface KvLayout {
  layers: number;
  /** Key/value heads per layer (fewer than attention heads for GQA models). */
  heads: number;
  headDim: number;
  dtype: KvDtype;
}

/** A KV tensor, [batch, heads, length, headDim], wherever its memory is. */
export interface KvTensor {
  readonly dims: readonly number[];
}

/** One layer's key and value, each [batch, heads, length, headDim]. */
export interface KvLayer<T extends KvTensor = KvTensor> {
  key: T;
  value: T;
}

/** Where one source row of a {@link KvStorage.gather} comes from. */
export interface KvSource<T extends KvTensor = KvTensor> {
  tensor: T;
  row: number;
  keep: number;
}

/**
 * Where a cache's tensors live and how rows move between them: host memory as
 * onnxruntime-node's tensors ({@link hostKvStorage}), or a device's memory through Marquee's
 * ONNX Runtime addon (the KV cache then never leaves the GPU between steps).
 */
export interface KvStorage<T extends KvTensor = KvTensor> {
  /** A [batch, heads, 0, headDim] tensor: no past. */
  empty(layout: KvLayout, batch: number): T;
  /**
   * A new [sources.length, heads, length, headDim] tensor whose row `i` holds the last
   * `sources[i].keep` positions of row `sources[i].row` of `sources[i].tensor`, right-aligned,
   * with zeros before them.
   */
  gather(layout: KvLayout, sources: readonly KvSource<T>[], length: number): T;
  /** Frees a tensor's memory now (device memory is not the garbage collector's to watch). */
  release(tensor: T): void;
}

/** Caches in host memory, as onnxruntime-node's tensors: it copies them in and out of every run. */
export const hostKvStorage: KvStorage<ort.Tensor> = {
  empty(layout, batch) {
    return new ort.Tensor(
      layout.dtype,
      layout.dtype === 'float16' ? new Uint16Array(0) : new Float32Array(0),
      [batch, layout.heads, 0, layout.headDim],
    );
  },
  gather(layout, sources, length) {
    const { heads, headDim } = layout;
    const dst =
      layout.dtype === 'float16'
        ? new Uint16Array(sources.length * heads * length * headDim)
        : new Float32Array(sources.length * heads * length * headDim);
    sources.forEach(({ tensor, row, keep }, i) => {
      if (keep === 0) return;
      const src = tensor.data as Float32Array | Uint16Array;
      const srcLength = tensor.dims[2];
      for (let h = 0; h < heads; h++) {
        const from =
          ((row * heads + h) * srcLength + srcLength - keep) * headDim;
        const to = ((i * heads + h) * length + length - keep) * headDim;
        dst.set(src.subarray(from, from + keep * headDim), to);
      }
    });
    return new ort.Tensor(layout.dtype, dst, [
      sources.length,
      heads,
      length,
      headDim,
    ]);
  },
  release() {
    // Host memory: the garbage collector's.
  },
};

/** A sequence's cached positions: the last `keep` positions of row `row` of `cache`. */
export interface KvRow {
  cache: KvCache;
  row: number;
  keep: number;
}

/**
 * The attention cache of a batch of sequences that share one length: what a model returned as
 * `present.*` and takes back as `past_key_values.*`. Rows are sequences; a scheduler can tile a
 * prefilled prompt into several choices or keep only the rows still decoding. Whoever holds a
 * cache last {@link release}s it: a device cache's memory is freed then, not at garbage
 * collection.
 */
export class KvCache<T extends KvTensor = KvTensor> {
  private released = false;

  private constructor(
    readonly layout: KvLayout,
    readonly layers: readonly KvLayer<T>[],
    /** Where its tensors live. */
    readonly storage: KvStorage<T>,
  ) {}

  /** A cache with no past (length 0) for `batch` sequences. */
  static empty<T extends KvTensor = ort.Tensor>(
    layout: KvLayout,
    batch: number,
    storage: KvStorage<T> = hostKvStorage as unknown as KvStorage<T>,
  ): KvCache<T> {
    return new KvCache(
      layout,
      Array.from({ length: layout.layers }, () => ({
        key: storage.empty(layout, batch),
        value: storage.empty(layout, batch),
      })),
      storage,
    );
  }

  /** Wraps a model's `present.*` outputs. */
  static fromLayers<T extends KvTensor = ort.Tensor>(
    layout: KvLayout,
    layers: KvLayer<T>[],
    storage: KvStorage<T> = hostKvStorage as unknown as KvStorage<T>,
  ): KvCache<T> {
    return new KvCache(layout, layers, storage);
  }

  /** Sequences in the batch. */
  get batch(): number {
    return this.layers[0]?.key.dims[0] ?? 0;
  }

  /** Cached positions per sequence (tokens). */
  get length(): number {
    return this.layers[0]?.key.dims[2] ?? 0;
  }

  /** Bytes one cached token takes across all layers (key and value). */
  static bytesPerToken(layout: KvLayout): number {
    return (
      layout.layers *
      2 *
      layout.heads *
      layout.headDim *
      (layout.dtype === 'float16' ? 2 : 4)
    );
  }

  /**
   * Builds a left-padded batch cache of `length` positions from rows of other caches: output row
   * `i` holds the last `parts[i].keep` positions of row `parts[i].row` of `parts[i].cache`, right-
   * aligned, with zeros before them (positions the attention mask must exclude). Sequences of
   * different lengths join one batch this way, and finished ones leave it. The caches stay where
   * they are (on the device for a device cache) and are not released.
   */
  static gather(
    layout: KvLayout,
    parts: readonly KvRow[],
    length: number,
  ): KvCache {
    const storage = parts[0]?.cache.storage ?? hostKvStorage;
    for (const { cache, row, keep } of parts) {
      if (cache.storage !== storage)
        throw new TypeError('cannot gather rows of caches in different memory');
      if (cache.released) throw new Error('cannot gather a released cache');
      if (row < 0 || row >= cache.batch || keep > cache.length || keep > length)
        throw new RangeError(
          `cannot keep ${keep} of ${cache.length} positions in ${length}`,
        );
    }
    const make = (layer: number, which: 'key' | 'value'): KvTensor =>
      storage.gather(
        layout,
        parts.map(({ cache, row, keep }) => ({
          tensor: cache.layers[layer][which],
          row,
          keep,
        })),
        length,
      );
    return new KvCache(
      layout,
      Array.from({ length: layout.layers }, (_, l) => ({
        key: make(l, 'key'),
        value: make(l, 'value'),
      })),
      storage,
    );
  }

  /** A new cache whose row `i` is row `rows[i]` of this one (repeat a row to tile it). */
  selectRows(rows: readonly number[]): KvCache {
    if (rows.length === this.batch && rows.every((row, i) => row === i))
      return this;
    return KvCache.gather(
      this.layout,
      rows.map((row) => ({ cache: this, row, keep: this.length })),
      this.length,
    );
  }

  /** Frees the cache's tensors now; idempotent. Using it afterwards is an error. */
  release(): void {
    if (this.released) return;
    this.released = true;
    for (const { key, value } of this.layers) {
      this.storage.release(key);
      this.storage.release(value);
    }
  }
}

/** A host cache's layers as onnxruntime-node tensors; a cache in device memory is refused. */
export function hostLayers(cache: KvCache): readonly KvLayer<ort.Tensor>[] {
  if (cache.storage !== hostKvStorage)
    throw new TypeError('this KV cache is in device memory, not host memory');
  return cache.layers as readonly KvLayer<ort.Tensor>[];
}
