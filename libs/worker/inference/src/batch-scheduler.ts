import type { CausalLmSession } from './causal-lm-session';
import type { ChoiceStream } from './choice-stream';
import { InferenceError } from './inference-error';
import { KvCache } from './kv-cache';
import type { ChoiceDelta, GenerationResult, SchedulerLimits } from './types';

/** One request as the scheduler runs it: a prompt and its choices, each a sequence of the batch. */
export interface ScheduledRequest {
  promptTokenIds: readonly number[];
  /** The request's choices; each becomes one sequence in the running batch. */
  choices: readonly ChoiceStream[];
  /** Most tokens each choice may generate (for the memory reservation). */
  maxTokens: number;
  /** Called once per model step with a delta for each of this request's choices that advanced. */
  onDelta: (deltas: ChoiceDelta[]) => void;
  /** Aborting it ends the request with `cancelled` (its partial result attached) at the next step. */
  signal?: AbortSignal;
}

/** Cumulative counters, for metrics and benchmarks. */
export interface SchedulerStats {
  /** Prompts groups fully prefilled (a group may take several chunks). */
  prefills: number;
  /** Prefill model runs: one per chunk. */
  prefillChunks: number;
  /** Decode model runs: one per length group per step. */
  decodeSteps: number;
  /** Tokens sampled (prefill and decode). */
  tokens: number;
  /** Sum of the batch sizes of the decode runs. */
  decodeRows: number;
  /** Milliseconds inside model runs (ONNX Runtime plus tensor building). */
  forwardMs: number;
  /** Milliseconds of scheduler loop iterations, model runs included. */
  loopMs: number;
}

/** The parts of a {@link CausalLmSession} the scheduler drives. */
export type BatchModel = Pick<CausalLmSession, 'forward' | 'kvLayout'>;

interface Pending {
  spec: ScheduledRequest;
  reservedTokens: number;
  unfinished: number;
  settled: boolean;
  resolve: (result: GenerationResult) => void;
  reject: (error: unknown) => void;
}

/**
 * Requests admitted together whose prompts are being prefilled, left-padded to one width. A group
 * wider than `maxPrefillTokens` (only ever a lone long prompt) is prefilled a chunk per loop
 * iteration, so running sequences keep decoding in between.
 */
interface Prefill {
  requests: Pending[];
  width: number;
  /** Columns of the padded prompts already in `cache`. */
  done: number;
  cache?: KvCache;
}

/** A running choice: one row of its group's cache. */
interface Sequence {
  request: Pending;
  choice: ChoiceStream;
  /** Real (unpadded) positions cached for this sequence; also the position of its next token. */
  length: number;
  lastToken: number;
}

/** Running sequences of similar length that decode in one model run over one left-padded cache. */
interface Group {
  rows: Sequence[];
  cache: KvCache;
  /** Positions in `cache`: the longest row's length. */
  width: number;
}

/** Where a sequence's cached positions are: the last `keep` positions of `row` of `cache`. */
interface Placed {
  seq: Sequence;
  cache: KvCache;
  row: number;
  keep: number;
}

/** Defaults of {@link SchedulerLimits} that do not depend on the model. */
export const DEFAULT_SCHEDULER_LIMITS = {
  maxBatchSize: 32,
  kvBudgetBytes: 2 ** 31,
  maxPrefillTokens: 2048,
  freePaddingTokens: 64,
} as const;

/**
 * Continuous batching over one causal LM. Requests wait in FIFO order and are admitted between
 * model steps while the batch-size, tokens-in-flight and KV-memory limits allow; admitted prompts
 * are prefilled together (left-padded), and their choices then join the running batch. A prompt
 * longer than `maxPrefillTokens` is prefilled in chunks of that many tokens, one chunk between
 * decode steps, so a long prompt arriving stalls the running sequences by one chunk, not its
 * whole length; prompts arriving meanwhile that fit in one run take turns with its chunks. Every
 * step decodes one token for every running sequence in a single model run, whatever their
 * lengths: the batch cache is left-padded to the longest sequence, the attention mask hides the
 * padding, and position ids count from each sequence's first real token, so each sequence gets
 * the logits it would get alone. Sequences whose lengths differ a lot are kept in separate
 * groups, each a model run per step, so short sequences do not pay for a long one's width and
 * the padded cache stays within twice the real one (plus `freePaddingTokens` per row).
 * Finished and cancelled sequences leave after any step.
 */
export class BatchScheduler {
  readonly limits: SchedulerLimits;
  readonly stats: SchedulerStats = {
    prefills: 0,
    prefillChunks: 0,
    decodeSteps: 0,
    tokens: 0,
    decodeRows: 0,
    forwardMs: 0,
    loopMs: 0,
  };
  private readonly bytesPerToken: number;
  private readonly waiting: Pending[] = [];
  private groups: Group[] = [];
  private prefilling: Prefill | undefined;
  /** Whether the last prefill run was a chunk of {@link prefilling} (short prompts go next). */
  private chunkRanLast = false;
  private reservedTokens = 0;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly model: BatchModel,
    contextLength: number,
    limits: Partial<SchedulerLimits> = {},
  ) {
    const maxBatchSize =
      limits.maxBatchSize ?? DEFAULT_SCHEDULER_LIMITS.maxBatchSize;
    this.limits = {
      maxBatchSize,
      maxTokensInFlight:
        limits.maxTokensInFlight ?? maxBatchSize * contextLength,
      kvBudgetBytes:
        limits.kvBudgetBytes ?? DEFAULT_SCHEDULER_LIMITS.kvBudgetBytes,
      maxPrefillTokens:
        limits.maxPrefillTokens ?? DEFAULT_SCHEDULER_LIMITS.maxPrefillTokens,
      freePaddingTokens:
        limits.freePaddingTokens ?? DEFAULT_SCHEDULER_LIMITS.freePaddingTokens,
    };
    for (const [name, value] of Object.entries(this.limits))
      if (!(value >= 1)) throw new RangeError(`${name} must be at least 1`);
    this.bytesPerToken = KvCache.bytesPerToken(model.kvLayout);
  }

  /** Sequences decoding now and requests waiting for admission or still in prefill. */
  get load(): { running: number; waiting: number; reservedTokens: number } {
    return {
      running: this.running,
      waiting:
        this.waiting.length +
        (this.prefilling?.requests.filter((r) => !r.settled).length ?? 0),
      reservedTokens: this.reservedTokens,
    };
  }

  /**
   * Queues a request; resolves when all its choices have finished.
   *
   * @throws InferenceError `context_length_exceeded` (param `max_tokens`) when the request alone
   *   needs more tokens in flight or KV memory than the limits allow; `cancelled` with `partial`;
   *   `model_error` when a model run fails (every request in that run fails with it).
   */
  submit(spec: ScheduledRequest): Promise<GenerationResult> {
    const reservedTokens =
      (spec.promptTokenIds.length + spec.maxTokens) * spec.choices.length;
    if (
      reservedTokens > this.limits.maxTokensInFlight ||
      reservedTokens * this.bytesPerToken > this.limits.kvBudgetBytes
    ) {
      return Promise.reject(
        new InferenceError(
          'context_length_exceeded',
          `This request needs up to ${reservedTokens} tokens of KV cache (prompt plus max_tokens, times n), ` +
            'more than this worker can hold. Please reduce max_tokens, n or the prompt.',
          'max_tokens',
        ),
      );
    }
    return new Promise<GenerationResult>((resolve, reject) => {
      this.waiting.push({
        spec,
        reservedTokens,
        unfinished: spec.choices.length,
        settled: false,
        resolve,
        reject,
      });
      this.kick();
    });
  }

  private kick(): void {
    // Starting on a microtask lets requests submitted together share their prefill.
    this.loop ??= Promise.resolve()
      .then(() => this.run())
      .finally(() => {
        this.loop = undefined;
        if (this.busy) this.kick();
      });
  }

  private get running(): number {
    return this.groups.reduce((sum, g) => sum + g.rows.length, 0);
  }

  private get busy(): boolean {
    return (
      this.waiting.length > 0 ||
      this.groups.length > 0 ||
      this.prefilling !== undefined
    );
  }

  private async run(): Promise<void> {
    while (this.busy) {
      const started = performance.now();
      this.dropCancelled();
      await this.prefillStep();
      if (this.groups.length > 0) await this.decode();
      this.stats.loopMs += performance.now() - started;
      // Let submissions, cancels and report I/O in between steps.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /**
   * At most one prefill run per loop iteration. A long prompt part-way through its chunks takes
   * turns with prompts that arrived after it and fit in one run: they wait for one chunk, not all.
   */
  private async prefillStep(): Promise<void> {
    const long = this.prefilling;
    if (long) {
      const short = this.chunkRanLast ? this.admit(true) : [];
      this.chunkRanLast = short.length === 0;
      await this.prefillChunk(short.length > 0 ? prefillOf(short) : long);
      return;
    }
    const admitted = this.admit(false);
    if (admitted.length === 0) return;
    this.prefilling = prefillOf(admitted);
    this.chunkRanLast = true;
    await this.prefillChunk(this.prefilling);
  }

  /**
   * Takes waiting requests, in FIFO order, while the limits allow. The head of the queue waits
   * until it fits, so a large request is never starved; with `oneRunOnly` (beside a long prompt
   * still prefilling) it also waits when its prompt would need chunks of its own.
   */
  private admit(oneRunOnly: boolean): Pending[] {
    const admitted: Pending[] = [];
    // Sequences decoding now, and those of the prompts still prefilling (they join soon).
    let sequences =
      this.running +
      (this.prefilling?.requests ?? [])
        .filter((r) => !r.settled)
        .reduce((sum, r) => sum + r.spec.choices.length, 0);
    let widest = 0;
    while (this.waiting.length > 0) {
      const next = this.waiting[0];
      const n = next.spec.choices.length;
      const empty = sequences === 0;
      const tokens = this.reservedTokens + next.reservedTokens;
      const width = Math.max(widest, next.spec.promptTokenIds.length);
      if (
        !empty &&
        (sequences + n > this.limits.maxBatchSize ||
          tokens > this.limits.maxTokensInFlight ||
          tokens * this.bytesPerToken > this.limits.kvBudgetBytes)
      )
        break;
      if (
        (admitted.length > 0 || oneRunOnly) &&
        width * (admitted.length + 1) > this.limits.maxPrefillTokens
      )
        break;
      this.waiting.shift();
      admitted.push(next);
      this.reservedTokens = tokens;
      sequences += n;
      widest = width;
    }
    return admitted;
  }

  // Runs the group's next chunk; after the last one its choices sample their first token and join.
  private async prefillChunk(group: Prefill): Promise<void> {
    const { requests, width, done } = group;
    const finish = () => {
      if (this.prefilling === group) this.prefilling = undefined;
    };
    if (requests.every((r) => r.settled)) {
      finish();
      return;
    }
    const chunk = Math.max(
      1,
      Math.floor(this.limits.maxPrefillTokens / requests.length),
    );
    const end = Math.min(width, done + chunk);
    const pad = (r: Pending) => width - r.spec.promptTokenIds.length;
    let out;
    try {
      out = await this.forward({
        inputIds: requests.map((r) =>
          Array.from({ length: end - done }, (_, i) => {
            const col = done + i - pad(r);
            return col < 0 ? 0 : r.spec.promptTokenIds[col];
          }),
        ),
        attentionMask: requests.map((r) => mask(pad(r), end)),
        positionIds: requests.map((r) =>
          Array.from({ length: end - done }, (_, i) =>
            Math.max(0, done + i - pad(r)),
          ),
        ),
        past: group.cache,
        phase: 'prefill',
      });
    } catch (error) {
      finish();
      for (const r of requests) this.fail(r, error);
      return;
    }
    this.stats.prefillChunks++;
    if (end < width) {
      group.cache = out.present;
      group.done = end;
      return;
    }
    finish();
    this.stats.prefills++;
    const { logits, logitsDims, present } = out;
    const vocab = logitsDims[2];
    const joining: Placed[] = [];
    requests.forEach((request, row) => {
      if (request.settled) return; // cancelled while its prompt was prefilling
      const rowLogits = logits.subarray(row * vocab, (row + 1) * vocab);
      const length = request.spec.promptTokenIds.length;
      const deltas = request.spec.choices.map((choice) => {
        const { delta, token } = this.advance(request, choice, rowLogits);
        if (!choice.finishReason)
          joining.push({
            seq: { request, choice, length, lastToken: token },
            cache: present,
            row,
            keep: length,
          });
        return delta;
      });
      this.emit(request, deltas);
    });
    if (joining.length > 0) this.regroup([...this.placed(), ...joining]);
  }

  // One decode step: every group runs once; deltas go out after all groups have stepped.
  private async decode(): Promise<void> {
    const byRequest = new Map<Pending, ChoiceDelta[]>();
    const failed = new Map<Pending, unknown>();
    for (const group of this.groups) {
      const { rows, width } = group;
      let out;
      try {
        out = await this.forward({
          inputIds: rows.map((s) => [s.lastToken]),
          attentionMask: rows.map((s) => mask(width - s.length, width + 1)),
          positionIds: rows.map((s) => [s.length]),
          past: group.cache,
          phase: 'decode',
        });
      } catch (error) {
        for (const s of rows) failed.set(s.request, error);
        continue;
      }
      this.stats.decodeSteps++;
      this.stats.decodeRows += rows.length;
      group.cache = out.present;
      group.width = width + 1;
      const vocab = out.logitsDims[2];
      rows.forEach((s, row) => {
        s.length++;
        const { delta, token } = this.advance(
          s.request,
          s.choice,
          out.logits.subarray(row * vocab, (row + 1) * vocab),
        );
        s.lastToken = token;
        const deltas = byRequest.get(s.request) ?? [];
        deltas.push(delta);
        byRequest.set(s.request, deltas);
      });
    }
    byRequest.forEach((deltas, request) => {
      if (!failed.has(request)) this.emit(request, deltas);
    });
    failed.forEach((error, request) => this.fail(request, error));
    if (
      this.groups.some((g) =>
        g.rows.some((s) => s.choice.finishReason || s.request.settled),
      )
    )
      this.leave();
  }

  private advance(
    request: Pending,
    choice: ChoiceStream,
    logits: Float32Array,
  ): { delta: ChoiceDelta; token: number } {
    const token = choice.sample(logits);
    const text = choice.accept(token);
    const logprob = choice.lastLogprob();
    this.stats.tokens++;
    if (choice.finishReason) request.unfinished--;
    return {
      token,
      delta: {
        index: choice.index,
        text,
        tokens: 1,
        ...(logprob ? { logprobs: [logprob] } : {}),
      },
    };
  }

  private emit(request: Pending, deltas: ChoiceDelta[]): void {
    if (request.settled) return;
    try {
      request.spec.onDelta(deltas);
    } catch (error) {
      this.fail(request, error);
      return;
    }
    if (request.unfinished === 0) {
      this.settle(request);
      request.resolve(resultOf(request.spec));
    }
  }

  // Ends cancelled requests, waiting or running, with their partial result.
  private dropCancelled(): void {
    const cancelled = (r: Pending) => r.spec.signal?.aborted === true;
    // settle() takes a waiting request off the queue; only admitted ones give back a reservation.
    for (const request of this.waiting.filter(cancelled)) this.cancel(request);
    for (const request of this.prefilling?.requests ?? [])
      if (cancelled(request)) this.cancel(request);
    const running = new Set(
      this.groups.flatMap((g) => g.rows.map((s) => s.request)),
    );
    let changed = false;
    for (const request of running)
      if (cancelled(request)) {
        this.cancel(request);
        changed = true;
      }
    if (changed) this.leave();
  }

  private cancel(request: Pending): void {
    const error = new InferenceError('cancelled', 'generation was cancelled');
    error.partial = resultOf(request.spec);
    this.settle(request);
    request.reject(error);
  }

  private fail(request: Pending, error: unknown): void {
    if (request.settled) return;
    this.settle(request);
    request.reject(
      error instanceof InferenceError
        ? error
        : new InferenceError(
            'model_error',
            error instanceof Error ? error.message : String(error),
          ),
    );
    if (this.groups.some((g) => g.rows.some((s) => s.request === request)))
      this.leave();
  }

  private settle(request: Pending): void {
    if (request.settled) return;
    request.settled = true;
    const queued = this.waiting.indexOf(request);
    if (queued >= 0) this.waiting.splice(queued, 1);
    else this.reservedTokens -= request.reservedTokens;
  }

  // Drops finished and settled sequences and trims the padding they leave.
  private leave(): void {
    this.regroup(this.placed());
  }

  private placed(): Placed[] {
    return this.groups.flatMap((g) =>
      g.rows.map((seq, row) => ({
        seq,
        cache: g.cache,
        row,
        keep: seq.length,
      })),
    );
  }

  /**
   * Sorts the live sequences by length and cuts them into groups where no row carries more
   * padding than `freePaddingTokens` or half the group's width. A group whose rows, order and
   * width are unchanged keeps its cache; any other is gathered anew.
   */
  private regroup(placed: Placed[]): void {
    const live = placed
      .filter(({ seq }) => !seq.choice.finishReason && !seq.request.settled)
      .sort((a, b) => b.keep - a.keep);
    const parts: Placed[][] = [];
    for (const p of live) {
      const part = parts.at(-1);
      const width = part?.[0].keep ?? 0;
      if (
        part &&
        (width - p.keep <= this.limits.freePaddingTokens || p.keep * 2 >= width)
      )
        part.push(p);
      else parts.push([p]);
    }
    this.groups = parts.map((part) => {
      const width = part[0].keep;
      const cache = part[0].cache;
      const unchanged =
        cache.batch === part.length &&
        cache.length === width &&
        part.every((p, i) => p.cache === cache && p.row === i);
      return {
        rows: part.map((p) => p.seq),
        width,
        cache: unchanged
          ? cache
          : KvCache.gather(this.model.kvLayout, part, width),
      };
    });
  }

  private async forward(
    input: Parameters<BatchModel['forward']>[0],
  ): ReturnType<BatchModel['forward']> {
    const started = performance.now();
    try {
      return await this.model.forward(input, true);
    } finally {
      this.stats.forwardMs += performance.now() - started;
    }
  }
}

/** A prefill group of admitted requests, left-padded to the longest prompt. */
function prefillOf(requests: Pending[]): Prefill {
  return {
    requests,
    width: Math.max(...requests.map((r) => r.spec.promptTokenIds.length)),
    done: 0,
  };
}

/** `pad` zeros then ones, `width` in all. */
function mask(pad: number, width: number): number[] {
  const row = new Array<number>(width).fill(1);
  row.fill(0, 0, pad);
  return row;
}

function resultOf(spec: ScheduledRequest): GenerationResult {
  const choices = spec.choices.map((c) => c.result());
  return {
    promptTokens: spec.promptTokenIds.length,
    completionTokens: choices.reduce((sum, c) => sum + c.completionTokens, 0),
    choices,
  };
}
