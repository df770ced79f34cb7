import { onnx } from 'onnx-proto';
import { float32ToFloat16, float32ToFloat16Bits } from '../fp16';
import type { TransformerShape } from '../model-shape';
import { fillNormal, mulberry32 } from '../prng';
import type { GraphBuilder } from './graph-builder';

const DataType = onnx.TensorProto.DataType;

/** Large negative used for masked attention scores: the dtype's most negative finite value. */
export function maskValue(dtype: 'fp32' | 'fp16'): number {
  return dtype === 'fp16' ? -65504 : -3.4028234663852886e38;
}

/**
 * The building blocks GPT-2 and BERT graphs share, over one {@link GraphBuilder}: seeded weights
 * (drawn in call order, so the same seed gives the same bytes), LayerNorm, linear layers,
 * multi-head attention and `gelu_new`. Constants are created once, on first use.
 */
export class TransformerOps {
  /** Element type of weights and activations. */
  readonly T: onnx.TensorProto.DataType;
  private readonly rand: () => number;
  private readonly headDim: number;
  private readonly constants = new Map<string, string>();

  constructor(
    readonly g: GraphBuilder,
    private readonly shape: TransformerShape & { dtype: 'fp32' | 'fp16' },
    seed: number,
    private readonly layerNormEpsilon: number,
  ) {
    this.T = shape.dtype === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT;
    this.rand = mulberry32(seed);
    this.headDim = shape.hidden / shape.heads;
  }

  /** A weight of normal(mean, std) values under a Hugging Face parameter name. */
  weight(name: string, dims: number[], std: number, mean = 0): string {
    const values = fillNormal(
      new Float32Array(dims.reduce((a, b) => a * b, 1)),
      this.rand,
      std,
      mean,
    );
    const bytes =
      this.shape.dtype === 'fp16'
        ? new Uint8Array(float32ToFloat16(values).buffer)
        : new Uint8Array(values.buffer);
    return this.g.initializer({ name, dataType: this.T, dims, bytes });
  }

  /** An int64 constant named `/const/<name>`. */
  i64(name: string, values: number[], dims?: number[]): string {
    return this.once(name, () =>
      this.g.constInt64(`/const/${name}`, values, dims),
    );
  }

  /** LayerNorm over the hidden axis, with `<prefix>.weight` and `<prefix>.bias`. */
  layerNorm(x: string, prefix: string): string {
    return this.g.op(
      'LayerNormalization',
      [
        x,
        this.weight(`${prefix}.weight`, [this.shape.hidden], 0.02, 1),
        this.weight(`${prefix}.bias`, [this.shape.hidden], 0.02),
      ],
      { axis: -1, epsilon: this.layerNormEpsilon },
    );
  }

  /** `x W + b`, W stored `[in, out]` as `<prefix>.weight`. */
  linear(x: string, prefix: string, inDim: number, outDim: number): string {
    return this.g.op('Add', [
      this.g.op('MatMul', [
        x,
        this.weight(`${prefix}.weight`, [inDim, outDim], 0.02),
      ]),
      this.weight(`${prefix}.bias`, [outDim], 0.02),
    ]);
  }

  /** [batch, seq, hidden] -> [batch, heads, seq, headDim]. */
  toHeads(x: string): string {
    const { heads } = this.shape;
    const shape = this.i64('head_shape', [0, 0, heads, this.headDim]);
    return this.g.op('Transpose', [this.g.op('Reshape', [x, shape])], {
      perm: [0, 2, 1, 3],
    });
  }

  /**
   * Scaled dot-product attention of heads-layout `q`, `k`, `v` where `allowed` (broadcast to
   * [batch, heads, queries, keys]) is true; returns [batch, seq, hidden].
   */
  attend(q: string, k: string, v: string, allowed: string): string {
    const g = this.g;
    const scores = g.op('Mul', [
      g.op('MatMul', [q, g.op('Transpose', [k], { perm: [0, 1, 3, 2] })]),
      this.scalar('attn_scale', 1 / Math.sqrt(this.headDim)),
    ]);
    // Where, not an additive bias: adding the dtype's min to a negative score would overflow to -inf.
    const masked = this.scalar('mask_value', maskValue(this.shape.dtype));
    const probs = g.op('Softmax', [g.op('Where', [allowed, scores, masked])], {
      axis: -1,
    });
    return g.op('Reshape', [
      g.op('Transpose', [g.op('MatMul', [probs, v])], { perm: [0, 2, 1, 3] }),
      this.i64('merged_shape', [0, 0, this.shape.hidden]),
    ]);
  }

  /** gelu_new: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
  geluNew(x: string): string {
    const g = this.g;
    const cube = g.op('Mul', [g.op('Mul', [x, x]), x]);
    const inner = g.op('Mul', [
      g.op('Add', [
        x,
        g.op('Mul', [cube, this.scalar('gelu_cubic', 0.044715)]),
      ]),
      this.scalar('gelu_scale', Math.sqrt(2 / Math.PI)),
    ]);
    return g.op('Mul', [
      g.op('Mul', [x, this.scalar('half', 0.5)]),
      g.op('Add', [g.op('Tanh', [inner]), this.scalar('one_f', 1)]),
    ]);
  }

  /** A scalar of the model's dtype named `/const/<name>`. */
  private scalar(name: string, value: number): string {
    return this.once(name, () =>
      this.g.constScalar(
        `/const/${name}`,
        this.T,
        this.shape.dtype === 'fp16'
          ? new Uint8Array(Uint16Array.of(float32ToFloat16Bits(value)).buffer)
          : new Uint8Array(Float32Array.of(value).buffer),
      ),
    );
  }

  private once(name: string, make: () => string): string {
    let value = this.constants.get(name);
    if (value === undefined) {
      value = make();
      this.constants.set(name, value);
    }
    return value;
  }
}
