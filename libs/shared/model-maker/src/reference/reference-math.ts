/** The plain float64 building blocks both reference computations (GPT-2 and BERT) use. */

/** Layer normalisation over one vector. */
export function layerNorm(
  x: Float64Array,
  gamma: Float64Array,
  beta: Float64Array,
  epsilon: number,
): Float64Array {
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i];
  mean /= n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (x[i] - mean) ** 2;
  variance /= n;
  const inv = 1 / Math.sqrt(variance + epsilon);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (x[i] - mean) * inv * gamma[i] + beta[i];
  return out;
}

/** y = x W + b, with W stored [in, out] row-major (GPT-2's Conv1D layout, and the generator's BERT). */
export function linear(
  x: Float64Array,
  weight: Float64Array,
  bias: Float64Array,
): Float64Array {
  const out = Float64Array.from(bias);
  const n = bias.length;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    for (let j = 0; j < n; j++) out[j] += xi * weight[i * n + j];
  }
  return out;
}

export function softmax(scores: Float64Array): Float64Array {
  const max = Math.max(...scores);
  const exps = scores.map((s) => Math.exp(s - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** GELU, tanh approximation (`gelu_new`). */
export function geluNew(x: number): number {
  return (
    0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)))
  );
}
