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

/** One layer's key and value, each [batch, heads, length, headDim]. */
export interface KvLayer {
  key: ort.Tensor;
  value: ort.Tensor;
}

/**
 * The attention cache of a batch of sequences that share one length: what a model returned as
 * `present.*` and takes back as `past_key_values.*`. Rows are sequences; a scheduler can tile a
 * prefilled prompt into several choices or keep only the rows still decoding.
 */
export class KvCache {
  private constructor(
    readonly layout: KvLayout,
    readonly layers: readonly KvLayer[],
  ) {}

  /** A cache with no past (length 0) for `batch` sequences. */
  static empty(layout: KvLayout, batch: number): KvCache {
    const dims = [batch, layout.heads, 0, layout.headDim];
    const make = () =>
      new ort.Tensor(
        layout.dtype,
        layout.dtype === 'float16' ? new Uint16Array(0) : new Float32Array(0),
        dims,
      );
    return new KvCache(
      layout,
      Array.from({ length: layout.layers }, () => ({
        key: make(),
        value: make(),
      })),
    );
  }

  /** Wraps a model's `present.*` outputs. */
  static fromLayers(layout: KvLayout, layers: KvLayer[]): KvCache {
    return new KvCache(layout, layers);
  }

  /** Sequences in the batch. */
  get batch(): number {
    return this.layers[0]?.key.dims[0] ?? 0;
  }

  /** Cached positions per sequence (tokens). */
  get length(): number {
    return this.layers[0]?.key.dims[2] ?? 0;
  }

  /** A new cache whose row `i` is row `rows[i]` of this one (repeat a row to tile it). */
  selectRows(rows: readonly number[]): KvCache {
    if (rows.length === this.batch && rows.every((row, i) => row === i))
      return this;
    const copy = (tensor: ort.Tensor): ort.Tensor => {
      const [, heads, length, headDim] = tensor.dims;
      const rowSize = heads * length * headDim;
      const src = tensor.data as Float32Array | Uint16Array;
      const dst = new (src.constructor as
        | Float32ArrayConstructor
        | Uint16ArrayConstructor)(rows.length * rowSize);
      rows.forEach((row, i) =>
        dst.set(src.subarray(row * rowSize, (row + 1) * rowSize), i * rowSize),
      );
      return new ort.Tensor(tensor.type, dst, [
        rows.length,
        heads,
        length,
        headDim,
      ]);
    };
    return new KvCache(
      this.layout,
      this.layers.map(({ key, value }) => ({
        key: copy(key),
        value: copy(value),
      })),
    );
  }
}
