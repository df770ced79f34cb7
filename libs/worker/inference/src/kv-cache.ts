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
   * different lengths join one batch this way, and finished ones leave it.
   */
  static gather(
    layout: KvLayout,
    parts: readonly { cache: KvCache; row: number; keep: number }[],
    length: number,
  ): KvCache {
    const { heads, headDim } = layout;
    const make = (layer: number, which: 'key' | 'value'): ort.Tensor => {
      const dst =
        layout.dtype === 'float16'
          ? new Uint16Array(parts.length * heads * length * headDim)
          : new Float32Array(parts.length * heads * length * headDim);
      parts.forEach(({ cache, row, keep }, i) => {
        const tensor = cache.layers[layer][which];
        const src = tensor.data as Float32Array | Uint16Array;
        const srcLength = tensor.dims[2];
        if (keep > srcLength || keep > length)
          throw new RangeError(
            `cannot keep ${keep} of ${srcLength} positions in ${length}`,
          );
        for (let h = 0; h < heads; h++) {
          const from =
            ((row * heads + h) * srcLength + srcLength - keep) * headDim;
          const to = ((i * heads + h) * length + length - keep) * headDim;
          dst.set(src.subarray(from, from + keep * headDim), to);
        }
      });
      return new ort.Tensor(layout.dtype, dst, [
        parts.length,
        heads,
        length,
        headDim,
      ]);
    };
    return new KvCache(
      layout,
      Array.from({ length: layout.layers }, (_, l) => ({
        key: make(l, 'key'),
        value: make(l, 'value'),
      })),
    );
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
