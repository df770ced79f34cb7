/** File names inside a model folder; the layout Hugging Face Optimum exports. */
export const MODEL_FILES = {
  /** The ONNX graph (weights inline, or in {@link MODEL_FILES.onnxData} when large). */
  onnx: 'model.onnx',
  /** External weight data beside `model.onnx`, used when weights exceed protobuf's 2 GB limit. */
  onnxData: 'model.onnx_data',
  /** Hugging Face `tokenizers` JSON. */
  tokenizer: 'tokenizer.json',
  /** Special tokens, `model_max_length` and the Jinja `chat_template`. */
  tokenizerConfig: 'tokenizer_config.json',
  /** Hugging Face model config (`model_type`, sizes). */
  config: 'config.json',
  /** Hugging Face generation defaults (`bos_token_id`, `eos_token_id`). */
  generationConfig: 'generation_config.json',
  /** Marquee's own manifest, see `ModelManifest`. */
  manifest: 'marquee.json',
} as const;

export const MANIFEST_FILE = MODEL_FILES.manifest;
