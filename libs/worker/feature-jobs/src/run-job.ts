import {
  type ChoiceFinishMessage,
  type RequestEventMessage,
  type RequestFailureCode,
  type TokenLogprobMessage,
  toWireFailureCode,
} from '@marquee/contracts/proto';
import type { InferenceJob, PromptPayload } from '@marquee/contracts/queue';
import {
  completionBudget,
  InferenceError,
  type TextGenerator,
  type TokenLogprob,
} from '@marquee/worker/inference';

/** Where a job's events go (a gateway link, or a recorder in tests). */
export interface EventSink {
  send(event: RequestEventMessage, flushNow?: boolean): void;
}

/** What a started job used, to bill: recorded durably before the job's end is reported. */
export interface JobUsage {
  promptTokens: number;
  completionTokens: number;
  finishReason: string;
}

/** Records a started job's usage in the ledger (see `UsageRecorder`); resolves once durable. */
export type RecordUsage = (usage: JobUsage) => Promise<void>;

/** The parts of the engine a job needs. */
export type Generator = Pick<
  TextGenerator,
  'encode' | 'generate' | 'contextLength' | 'vocabSize' | 'compileConstraint'
>;

class JobRejected extends Error {
  constructor(
    readonly code: RequestFailureCode,
    message: string,
    readonly param: string,
  ) {
    super(message);
  }
}

/**
 * Runs one job: checks the prompts fit the context before telling the gateway it started (so
 * such errors reach the client as a 400), then generates each prompt's `n` choices, streaming
 * token frames, and ends with `finished` or `failed` carrying the token counts to bill. Once it
 * has started, its usage is recorded (`recordUsage`) before the end is reported, so what the
 * client was told of is always billed.
 */
export async function runJob(
  job: InferenceJob,
  generator: Generator,
  sink: EventSink,
  workerId: string,
  signal: AbortSignal,
  recordUsage: RecordUsage = async () => undefined,
): Promise<void> {
  const { requestId, sampling } = job;
  // The request field that holds the prompt, for messages naming it.
  const promptParam = {
    completions: 'prompt',
    'chat.completions': 'messages',
    responses: 'input',
  }[job.endpoint];
  let prompts: number[][];
  let maxTokens: number;
  try {
    prompts = job.prompts.map((p) => encodePrompt(generator, p, promptParam));
    maxTokens = completionBudget({
      promptTokens: Math.max(...prompts.map((p) => p.length)),
      maxTokens: sampling.maxTokens,
      contextLength: generator.contextLength,
      promptParam,
    });
    // A schema the grammar refuses is a 400 before the request starts (and bills anything).
    if (sampling.constraint)
      await generator.compileConstraint(sampling.constraint);
  } catch (error) {
    const rejected =
      error instanceof JobRejected
        ? error
        : error instanceof InferenceError
          ? new JobRejected(error.code, error.message, error.param ?? '')
          : new JobRejected('invalid_prompt', messageOf(error), promptParam);
    sink.send(
      failedEvent(
        requestId,
        rejected.code,
        rejected.message,
        rejected.param,
        0,
        0,
      ),
      true,
    );
    return;
  }

  const promptTokens = prompts.reduce((sum, p) => sum + p.length, 0);
  sink.send({ requestId, started: { workerId, promptTokens } });
  let completionTokens = 0;
  const choices: ChoiceFinishMessage[] = [];
  // Every prompt's choices join the shared batch at once; choice indexes run prompt by prompt.
  const outcomes = await Promise.allSettled(
    prompts.map((ids, p) =>
      generator.generate(
        ids,
        { ...sampling, maxTokens },
        (deltas) => {
          for (const d of deltas) {
            sink.send({
              requestId,
              tokens: {
                choiceIndex: p * sampling.n + d.index,
                text: d.text,
                tokens: d.tokens,
                ...(d.logprobs ? { logprobs: d.logprobs.map(toWire) } : {}),
              },
            });
          }
        },
        signal,
      ),
    ),
  );
  let failure: unknown;
  for (const [p, outcome] of outcomes.entries()) {
    if (outcome.status === 'rejected') {
      failure ??= outcome.reason;
      if (outcome.reason instanceof InferenceError)
        completionTokens += outcome.reason.partial?.completionTokens ?? 0;
      continue;
    }
    completionTokens += outcome.value.completionTokens;
    for (const c of outcome.value.choices) {
      choices.push({
        index: p * sampling.n + c.index,
        finishReason: c.finishReason,
        completionTokens: c.completionTokens,
      });
    }
  }
  if (failure !== undefined) {
    const code: RequestFailureCode =
      failure instanceof InferenceError ? failure.code : 'model_error';
    await recordUsage({ promptTokens, completionTokens, finishReason: code });
    sink.send(
      failedEvent(
        requestId,
        code,
        messageOf(failure),
        failure instanceof InferenceError ? (failure.param ?? '') : '',
        promptTokens,
        completionTokens,
      ),
      true,
    );
    throw failure;
  }
  await recordUsage({
    promptTokens,
    completionTokens,
    finishReason: summarizeFinish(choices.map((c) => c.finishReason)),
  });
  sink.send(
    { requestId, finished: { promptTokens, completionTokens, choices } },
    true,
  );
}

/** One finish reason for the ledger: the choices' own when they agree, else all of them. */
function summarizeFinish(reasons: string[]): string {
  const distinct = [...new Set(reasons)];
  return distinct.length === 1 ? distinct[0] : distinct.sort().join(',');
}

function toWire(logprob: TokenLogprob): TokenLogprobMessage {
  return {
    token: logprob.token,
    logprob: logprob.logprob,
    bytes: Uint8Array.from(logprob.bytes),
    topLogprobs: logprob.topLogprobs.map((t) => ({
      token: t.token,
      logprob: t.logprob,
      bytes: Uint8Array.from(t.bytes),
    })),
  };
}

function encodePrompt(
  generator: Generator,
  prompt: PromptPayload,
  param: string,
): number[] {
  const ids = prompt.kind === 'tokens' ? prompt.ids : generator.encode(prompt);
  if (ids.length === 0)
    throw new JobRejected('invalid_prompt', 'The prompt is empty.', param);
  if (ids.some((id) => id >= generator.vocabSize)) {
    throw new JobRejected(
      'invalid_prompt',
      `Token ids must be below the model's vocabulary size, ${generator.vocabSize}.`,
      param,
    );
  }
  return ids;
}

/** A job's `failed` event, its code put on the wire. */
export function failedEvent(
  requestId: string,
  code: RequestFailureCode,
  message: string,
  param: string,
  promptTokens: number,
  completionTokens: number,
): RequestEventMessage {
  return {
    requestId,
    failed: {
      code: toWireFailureCode(code),
      message,
      param,
      promptTokens,
      completionTokens,
    },
  };
}

/** An error's message, or the thrown value as text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
