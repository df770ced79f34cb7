import { packFloat32, type RequestFailureCode } from '@marquee/contracts/proto';
import type { EmbeddingJob } from '@marquee/contracts/queue';
import { type Embedder, InferenceError } from '@marquee/worker/inference';
import {
  type EventSink,
  failedEvent,
  messageOf,
  type RecordUsage,
} from './run-job';

/** The parts of the engine an embedding job needs. */
export type EmbeddingModel = Pick<Embedder, 'encode' | 'embed' | 'dimensions'>;

/**
 * Runs one embedding job: tokenizes and checks the inputs before reporting `started` (so bad
 * inputs reach the client as a 400), embeds them in the model's dynamic batch, and ends with
 * `finished` carrying one packed float32 vector per input and the prompt tokens to bill (recorded
 * with `recordUsage` before the end is reported).
 */
export async function runEmbeddingJob(
  job: EmbeddingJob,
  model: EmbeddingModel,
  sink: EventSink,
  workerId: string,
  recordUsage: RecordUsage = async () => undefined,
  signal?: AbortSignal,
): Promise<void> {
  const { requestId } = job;
  const fail = (
    code: RequestFailureCode,
    message: string,
    param: string,
    promptTokens: number,
  ) =>
    sink.send(
      failedEvent(requestId, code, message, param, promptTokens, 0),
      true,
    );
  if (job.dimensions !== undefined && job.dimensions !== model.dimensions) {
    fail(
      'invalid_prompt',
      `This model does not support dimensions=${job.dimensions}: its embeddings have ${model.dimensions} dimensions.`,
      'dimensions',
      0,
    );
    return;
  }
  let inputs: number[][];
  try {
    inputs = job.inputs.map((input) =>
      input.kind === 'tokens' ? input.ids : model.encode(input.text),
    );
  } catch (error) {
    fail('invalid_prompt', messageOf(error), 'input', 0);
    return;
  }
  const promptTokens = inputs.reduce((sum, ids) => sum + ids.length, 0);
  // Cancelled while queued behind other work (the client left): nothing is run or billed. A
  // model run once started is too short to stop; its result is delivered and billed.
  if (signal?.aborted) {
    fail('cancelled', 'The request was cancelled.', '', 0);
    return;
  }
  let vectors: Float32Array[];
  try {
    vectors = await model.embed(inputs);
  } catch (error) {
    if (error instanceof InferenceError && error.code === 'invalid_prompt') {
      fail(error.code, error.message, error.param ?? 'input', 0);
      return;
    }
    sink.send({ requestId, started: { workerId, promptTokens } });
    fail(
      error instanceof InferenceError ? error.code : 'model_error',
      messageOf(error),
      '',
      0,
    );
    throw error;
  }
  await recordUsage({
    promptTokens,
    completionTokens: 0,
    finishReason: 'stop',
  });
  sink.send({ requestId, started: { workerId, promptTokens } });
  sink.send(
    {
      requestId,
      finished: {
        promptTokens,
        completionTokens: 0,
        choices: [],
        embeddings: vectors.map((v, index) => ({
          index,
          data: packFloat32(v),
        })),
      },
    },
    true,
  );
}
