import type {
  CausalLmSession,
  ForwardInput,
  ForwardOutput,
} from './causal-lm-session';
import type { ChoiceStream } from './choice-stream';
import { KvCache } from './kv-cache';
import {
  AdmissionQueue,
  reservationOf,
  resolveSchedulerLimits,
} from './scheduler/admission-queue';
import {
  nextChunk,
  PrefillTurns,
  type Prefill,
} from './scheduler/chunked-prefill';
import {
  decodeInput,
  LengthGroups,
  type Placed,
} from './scheduler/length-groups';
import { RequestSettler } from './scheduler/request-settler';
import {
  sampleNext,
  type PendingRequest,
  type ScheduledRequest,
} from './scheduler/scheduled-request';
import {
  emptySchedulerStats,
  type SchedulerStats,
} from './scheduler/scheduler-stats';
import type { ChoiceDelta, GenerationResult, SchedulerLimits } from './types';

export { DEFAULT_SCHEDULER_LIMITS } from './scheduler/admission-queue';
export type { ScheduledRequest } from './scheduler/scheduled-request';
export type { SchedulerStats } from './scheduler/scheduler-stats';

/** The parts of a {@link CausalLmSession} the scheduler drives. */
export type BatchModel = Pick<CausalLmSession, 'forward' | 'kvLayout'>;

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
  readonly stats: SchedulerStats = emptySchedulerStats();
  private readonly admission: AdmissionQueue;
  private readonly prefill = new PrefillTurns();
  private readonly groups: LengthGroups;
  private readonly settler: RequestSettler;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly model: BatchModel,
    contextLength: number,
    limits: Partial<SchedulerLimits> = {},
  ) {
    this.limits = resolveSchedulerLimits(contextLength, limits);
    this.admission = new AdmissionQueue(
      this.limits,
      KvCache.bytesPerToken(model.kvLayout),
    );
    this.groups = new LengthGroups(
      model.kvLayout,
      this.limits.freePaddingTokens,
    );
    this.settler = new RequestSettler(this.admission, this.groups);
  }

  /** Sequences decoding now and requests waiting for admission or still in prefill. */
  get load(): { running: number; waiting: number; reservedTokens: number } {
    return {
      running: this.groups.sequences,
      waiting: this.admission.length + this.prefill.requests.length,
      reservedTokens: this.admission.reservedTokens,
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
    const reservedTokens = reservationOf(spec);
    const tooLarge = this.admission.tooLarge(reservedTokens);
    if (tooLarge) return Promise.reject(tooLarge);
    return new Promise<GenerationResult>((resolve, reject) => {
      this.admission.push({
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

  private get busy(): boolean {
    return (
      this.admission.length > 0 ||
      this.groups.all.length > 0 ||
      this.prefill.current !== undefined
    );
  }

  private async run(): Promise<void> {
    while (this.busy) {
      const started = performance.now();
      this.settler.dropCancelled(this.prefill.current);
      // One prefill run at most per iteration, so running sequences wait one chunk at most.
      // Admission counts the sequences of prompts still prefilling too: they join soon.
      const prefill = this.prefill.next((oneRunOnly) =>
        this.admission.admit(
          this.groups.sequences + this.prefill.sequences,
          oneRunOnly,
        ),
      );
      if (prefill) await this.prefillChunk(prefill);
      if (this.groups.all.length > 0) await this.decode();
      this.stats.loopMs += performance.now() - started;
      // Let submissions, cancels and report I/O in between steps.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  // Runs the group's next chunk; after the last one its choices sample their first token and join.
  private async prefillChunk(group: Prefill): Promise<void> {
    if (group.requests.every((r) => r.settled)) {
      this.prefill.finish(group);
      group.cache?.release();
      return;
    }
    const { input, end } = nextChunk(group, this.limits.maxPrefillTokens);
    // The last chunk's logits give every choice its first token: their masks are prepared first.
    const sampling =
      end < group.width ? [] : group.requests.flatMap((r) => r.spec.choices);
    let out;
    try {
      out = await this.forward(input, sampling);
    } catch (error) {
      this.prefill.finish(group);
      group.cache?.release();
      for (const r of group.requests) this.settler.fail(r, error);
      return;
    }
    this.stats.prefillChunks++;
    group.cache?.release(); // the earlier chunks' cache: `present` holds them now
    if (end < group.width) {
      group.cache = out.present;
      group.done = end;
      return;
    }
    this.prefill.finish(group);
    this.stats.prefills++;
    this.join(group.requests, out);
  }

  // Each choice samples its first token from its prompt's last logits; unfinished ones join.
  private join(requests: PendingRequest[], out: ForwardOutput): void {
    const { logits, logitsDims, present } = out;
    const vocab = logitsDims[2];
    const joining: Placed[] = [];
    requests.forEach((request, row) => {
      if (request.settled) return; // cancelled while its prompt was prefilling
      const rowLogits = logits.subarray(row * vocab, (row + 1) * vocab);
      const length = request.spec.promptTokenIds.length;
      const placed: Placed[] = [];
      let deltas: ChoiceDelta[];
      try {
        deltas = request.spec.choices.map((choice) => {
          // Each choice samples from its own copy: a grammar's mask writes to the row.
          const { delta, token } = this.advance(
            request,
            choice,
            choice.constrained ? rowLogits.slice() : rowLogits,
          );
          if (!choice.finishReason)
            placed.push({
              seq: { request, choice, length, lastToken: token },
              cache: present,
              row,
              keep: length,
            });
          return delta;
        });
      } catch (error) {
        // A choice that cannot sample (its grammar failed) fails its request, not the batch.
        this.settler.fail(request, error);
        return;
      }
      joining.push(...placed);
      this.settler.emit(request, deltas);
    });
    if (joining.length > 0) this.groups.regroup(joining);
    else present.release(); // no choice goes on decoding
  }

  // One decode step: every group runs once; deltas go out after all groups have stepped.
  private async decode(): Promise<void> {
    const byRequest = new Map<PendingRequest, ChoiceDelta[]>();
    const failed = new Map<PendingRequest, unknown>();
    for (const group of this.groups.all) {
      const { rows, width } = group;
      let out;
      try {
        out = await this.forward(
          decodeInput(group),
          rows.map((s) => s.choice),
        );
      } catch (error) {
        for (const s of rows) failed.set(s.request, error);
        continue;
      }
      this.stats.decodeSteps++;
      this.stats.decodeRows += rows.length;
      group.cache.release(); // `present` holds the past and this step
      group.cache = out.present;
      group.width = width + 1;
      const vocab = out.logitsDims[2];
      rows.forEach((s, row) => {
        s.length++;
        if (failed.has(s.request)) return;
        try {
          const { delta, token } = this.advance(
            s.request,
            s.choice,
            out.logits.subarray(row * vocab, (row + 1) * vocab),
          );
          s.lastToken = token;
          const deltas = byRequest.get(s.request) ?? [];
          deltas.push(delta);
          byRequest.set(s.request, deltas);
        } catch (error) {
          // A choice that cannot sample (its grammar failed) fails its request, not the batch.
          failed.set(s.request, error);
        }
      });
    }
    byRequest.forEach((deltas, request) => {
      if (!failed.has(request)) this.settler.emit(request, deltas);
    });
    failed.forEach((error, request) => this.settler.fail(request, error));
    if (this.groups.hasEnded()) this.groups.regroup();
  }

  private advance(
    request: PendingRequest,
    choice: ChoiceStream,
    logits: Float32Array,
  ): { delta: ChoiceDelta; token: number } {
    const next = sampleNext(request, choice, logits);
    this.stats.tokens++;
    return next;
  }

  // The grammar masks of the choices that sample from this run, then the model run. (Both run
  // on this thread: onnxruntime-node's run is synchronous, so the masks add to the step.)
  private async forward(
    input: ForwardInput,
    sampling: readonly ChoiceStream[],
  ): Promise<ForwardOutput> {
    await this.prepareMasks(sampling);
    const started = performance.now();
    try {
      return await this.model.forward(input, true);
    } finally {
      this.stats.forwardMs += performance.now() - started;
    }
  }

  // A mask that fails is kept by its choice, whose next sample throws and fails its request.
  private async prepareMasks(choices: readonly ChoiceStream[]): Promise<void> {
    const constrained = choices.filter((c) => c.constrained);
    if (constrained.length === 0) return;
    const started = performance.now();
    await Promise.all(constrained.map((c) => c.prepare()));
    this.stats.maskMs += performance.now() - started;
  }
}
