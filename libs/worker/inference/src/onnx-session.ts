import * as ort from 'onnxruntime-node';
import { InferenceError } from './inference-error';
import type { ExecutionProvider, TextGeneratorOptions } from './types';

/** A created session and the execution provider it really runs on. */
export interface CreatedSession {
  session: ort.InferenceSession;
  executionProvider: ExecutionProvider;
}

/**
 * Creates an ONNX Runtime session on the configured execution provider. When that provider
 * cannot start (no CUDA libraries, no device), loading fails — unless `cpuFallback` allows
 * running on the CPU instead, which `onFallback` is told of so the caller can warn.
 */
export async function createSession(
  modelPath: string,
  options: Pick<
    TextGeneratorOptions,
    | 'executionProvider'
    | 'cpuFallback'
    | 'onFallback'
    | 'intraOpThreads'
    | 'graphOptimizationLevel'
  >,
): Promise<CreatedSession> {
  const provider = options.executionProvider ?? 'cpu';
  const create = (executionProvider: ExecutionProvider) =>
    ort.InferenceSession.create(modelPath, {
      executionProviders: [executionProvider],
      graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
      ...(options.intraOpThreads
        ? { intraOpNumThreads: options.intraOpThreads }
        : {}),
    });
  let reason: string;
  try {
    return { session: await create(provider), executionProvider: provider };
  } catch (error) {
    reason = error instanceof Error ? error.message : String(error);
  }
  if (provider === 'cpu')
    throw new InferenceError(
      'model_error',
      `cannot load ${modelPath}: ${reason}`,
    );
  // The provider, or the model itself, failed. Only a CPU session tells which.
  if (!options.cpuFallback)
    throw new InferenceError(
      'model_error',
      `cannot load ${modelPath} on the ${provider} execution provider: ${reason}`,
    );
  let session: ort.InferenceSession;
  try {
    session = await create('cpu');
  } catch (error) {
    throw new InferenceError(
      'model_error',
      `cannot load ${modelPath} on ${provider} (${reason}) or on the CPU (${
        error instanceof Error ? error.message : String(error)
      })`,
    );
  }
  options.onFallback?.(
    `the ${provider} execution provider cannot start (${reason}); running ${modelPath} on the CPU`,
  );
  return { session, executionProvider: 'cpu' };
}
