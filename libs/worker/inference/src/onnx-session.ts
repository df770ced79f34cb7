import * as ort from 'onnxruntime-node';
import { InferenceError } from './inference-error';
import type { ExecutionProvider, TextGeneratorOptions } from './types';

/** A created session and the execution provider it really runs on. */
export interface CreatedSession {
  session: ort.InferenceSession;
  executionProvider: ExecutionProvider;
}

/** The options that say where a session runs. */
export type ProviderOptions = Pick<
  TextGeneratorOptions,
  | 'executionProvider'
  | 'cpuFallback'
  | 'onFallback'
  | 'intraOpThreads'
  | 'graphOptimizationLevel'
>;

/**
 * Creates an ONNX Runtime session on the configured execution provider. When that provider
 * cannot start (no CUDA libraries, no device), loading fails — unless `cpuFallback` allows
 * running on the CPU instead, which `onFallback` is told of so the caller can warn.
 */
export async function createSession(
  modelPath: string,
  options: ProviderOptions,
): Promise<CreatedSession> {
  return openOnProvider(modelPath, options, (executionProvider) =>
    ort.InferenceSession.create(modelPath, {
      executionProviders: [executionProvider],
      graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
      ...(options.intraOpThreads
        ? { intraOpNumThreads: options.intraOpThreads }
        : {}),
    }),
  );
}

/**
 * Opens `modelPath` with `open` on the configured provider, falling back to the CPU as
 * {@link createSession} describes; whichever runtime `open` uses.
 */
export async function openOnProvider<T>(
  modelPath: string,
  options: ProviderOptions,
  open: (provider: ExecutionProvider) => T | Promise<T>,
): Promise<{ session: T; executionProvider: ExecutionProvider }> {
  const provider = options.executionProvider ?? 'cpu';
  let reason: string;
  try {
    return { session: await open(provider), executionProvider: provider };
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
  let session: T;
  try {
    session = await open('cpu');
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
