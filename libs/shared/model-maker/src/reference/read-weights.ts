import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MODEL_FILES } from '@marquee/shared/model-format';
import { onnx } from 'onnx-proto';
import { float16BitsToNumber } from '../fp16';

/** A GPT-2 model's weights as float64, read back out of `model.onnx`, with its shape. */
export interface Gpt2Weights {
  layers: number;
  heads: number;
  hidden: number;
  vocab: number;
  context: number;
  dtype: 'fp32' | 'fp16';
  tensors: Map<string, Float64Array>;
}

/** Every float initializer of an ONNX model as float64, by name, and the weights' dtype. */
export interface OnnxInitializers {
  model: onnx.ModelProto;
  tensors: Map<string, Float64Array>;
  dtype: 'fp32' | 'fp16';
}

/** Reads the float initializers of `<dir>/model.onnx` (or an `.onnx` path), following external data. */
export function readOnnxInitializers(modelDirOrFile: string): OnnxInitializers {
  const file = modelDirOrFile.endsWith('.onnx')
    ? modelDirOrFile
    : join(modelDirOrFile, MODEL_FILES.onnx);
  const model = onnx.ModelProto.decode(readFileSync(file));
  if (!model.graph) throw new Error(`${file} has no graph`);
  const initializers = model.graph.initializer ?? [];
  const externalFiles = new Map<string, Buffer>();
  const tensors = new Map<string, Float64Array>();
  let dtype: OnnxInitializers['dtype'] = 'fp32';
  for (const t of initializers) {
    const type = t.dataType;
    if (
      type !== onnx.TensorProto.DataType.FLOAT &&
      type !== onnx.TensorProto.DataType.FLOAT16
    )
      continue;
    let bytes: Uint8Array = t.rawData ?? new Uint8Array(0);
    if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
      const entry = (key: string): string | undefined =>
        t.externalData?.find((e) => e.key === key)?.value ?? undefined;
      const location = entry('location') ?? '';
      let data = externalFiles.get(location);
      if (!data)
        externalFiles.set(
          location,
          (data = readFileSync(join(dirname(file), location))),
        );
      const offset = Number(entry('offset') ?? 0);
      bytes = data.subarray(
        offset,
        offset + Number(entry('length') ?? data.byteLength - offset),
      );
    }
    // Copy so that the typed-array view is aligned.
    const aligned = new Uint8Array(bytes).buffer;
    let values: Float64Array;
    if (type === onnx.TensorProto.DataType.FLOAT16) {
      dtype = 'fp16';
      values = Float64Array.from(new Uint16Array(aligned), float16BitsToNumber);
    } else if (t.floatData && t.floatData.length > 0) {
      values = Float64Array.from(t.floatData);
    } else {
      values = Float64Array.from(new Float32Array(aligned));
    }
    tensors.set(t.name ?? '', values);
  }
  return { model, tensors, dtype };
}

/** Reads weights from `<dir>/model.onnx` (or an `.onnx` path), following external data. */
export function readGpt2Weights(modelDirOrFile: string): Gpt2Weights {
  const file = modelDirOrFile.endsWith('.onnx')
    ? modelDirOrFile
    : join(modelDirOrFile, MODEL_FILES.onnx);
  const { model, tensors, dtype } = readOnnxInitializers(file);
  const graph = model.graph as onnx.IGraphProto;
  const initializers = graph.initializer ?? [];
  const inputs = graph.input ?? [];
  const wte = initializers.find((t) => t.name === 'transformer.wte.weight');
  const wpe = initializers.find((t) => t.name === 'transformer.wpe.weight');
  const pastKey = inputs.find((i) => i.name === 'past_key_values.0.key');
  if (!wte || !wpe || !pastKey)
    throw new Error(`${file} is not a GPT-2 model from the model maker`);
  const heads = Number(pastKey.type?.tensorType?.shape?.dim?.[1]?.dimValue);
  const layers = inputs.filter((i) =>
    /^past_key_values\.\d+\.key$/.test(i.name ?? ''),
  ).length;
  return {
    layers,
    heads,
    hidden: Number(wte.dims?.[1]),
    vocab: Number(wte.dims?.[0]),
    context: Number(wpe.dims?.[0]),
    dtype,
    tensors,
  };
}
