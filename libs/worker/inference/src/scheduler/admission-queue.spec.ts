import type { ChoiceStream } from '../choice-stream';
import { InferenceError } from '../inference-error';
import type { SchedulerLimits } from '../types';
import {
  AdmissionQueue,
  reservationOf,
  resolveSchedulerLimits,
} from './admission-queue';
import type { PendingRequest } from './scheduled-request';

const limits: SchedulerLimits = {
  maxBatchSize: 4,
  maxTokensInFlight: 100,
  kvBudgetBytes: 1000,
  maxPrefillTokens: 16,
  freePaddingTokens: 64,
};

/** A waiting request with `n` choices whose prompt is `prompt` tokens long. */
function request(prompt: number, maxTokens: number, n = 1): PendingRequest {
  const spec = {
    promptTokenIds: new Array<number>(prompt).fill(1),
    choices: new Array<ChoiceStream>(n),
    maxTokens,
    onDelta: () => undefined,
  };
  return {
    spec,
    reservedTokens: reservationOf(spec),
    unfinished: n,
    settled: false,
    resolve: () => undefined,
    reject: () => undefined,
  };
}

/** The same requests (not just equal ones), in the same order. */
function expectSame(
  actual: PendingRequest[],
  expected: PendingRequest[],
): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((r, i) => expect(r).toBe(expected[i]));
}

describe('AdmissionQueue', () => {
  it('reserves prompt plus max_tokens for each choice', () => {
    expect(request(10, 5, 3).reservedTokens).toBe(45);
  });

  it('admits in FIFO order and keeps a head that does not fit waiting, even when a later one would fit', () => {
    const queue = new AdmissionQueue(limits, 1);
    const [first, big, small] = [request(4, 36), request(4, 58), request(2, 2)];
    for (const r of [first, big, small]) queue.push(r);
    expectSame(queue.admit(1, false), [first]);
    expect(queue.reservedTokens).toBe(40);
    expectSame(queue.admit(1, false), []);
    expect(queue.length).toBe(2);
    queue.release(first);
    expect(queue.reservedTokens).toBe(0);
    expectSame(queue.admit(0, false), [big, small]);
  });

  it('always admits the head into an empty batch, whatever the batch-size limit', () => {
    const queue = new AdmissionQueue(limits, 1);
    const wide = request(1, 1, 6);
    queue.push(wide);
    expectSame(queue.admit(1, false), []);
    expectSame(queue.admit(0, false), [wide]);
  });

  it('stops at the KV budget as well as at the tokens in flight', () => {
    const queue = new AdmissionQueue(limits, 20);
    const [a, b] = [request(10, 20), request(10, 20)];
    queue.push(a);
    queue.push(b);
    expectSame(queue.admit(0, false), [a]);
  });

  it('admits prompts together only while their padded prefill fits in one run', () => {
    const queue = new AdmissionQueue(limits, 1);
    const [a, b, c] = [request(6, 1), request(8, 1), request(3, 1)];
    for (const r of [a, b, c]) queue.push(r);
    // 2 x 8 columns fit in 16 prefill tokens; a third row would need 24.
    expectSame(queue.admit(0, false), [a, b]);
  });

  it('beside a long prefill, admits only a prompt that needs no chunks of its own', () => {
    const queue = new AdmissionQueue(limits, 1);
    const long = request(20, 1);
    queue.push(long);
    expectSame(queue.admit(1, true), []);
    expectSame(queue.admit(1, false), [long]);
  });

  it('takes a cancelled waiting request off the queue without touching the reservations', () => {
    const queue = new AdmissionQueue(limits, 1);
    const [running, waiting] = [request(4, 6), request(4, 6)];
    queue.push(running);
    expectSame(queue.admit(0, false), [running]);
    queue.push(waiting);
    queue.release(waiting);
    expect(queue.length).toBe(0);
    expect(queue.reservedTokens).toBe(10);
  });

  it('rejects a request the worker could not hold even alone, naming max_tokens', () => {
    const queue = new AdmissionQueue(limits, 1);
    expect(queue.tooLarge(100)).toBeUndefined();
    const error = queue.tooLarge(101);
    expect(error).toBeInstanceOf(InferenceError);
    expect(error).toMatchObject({
      code: 'context_length_exceeded',
      param: 'max_tokens',
    });
    expect(error?.message).toContain('needs up to 101 tokens of KV cache');
    expect(new AdmissionQueue(limits, 20).tooLarge(51)).toBeDefined();
  });
});

describe('resolveSchedulerLimits', () => {
  it('fills in the defaults, tokens in flight from the context length', () => {
    expect(resolveSchedulerLimits(128, { maxBatchSize: 4 })).toEqual({
      maxBatchSize: 4,
      maxTokensInFlight: 512,
      kvBudgetBytes: 2 ** 31,
      maxPrefillTokens: 2048,
      freePaddingTokens: 64,
    });
  });

  it('refuses a limit under 1, naming it', () => {
    expect(() => resolveSchedulerLimits(128, { maxPrefillTokens: 0 })).toThrow(
      new RangeError('maxPrefillTokens must be at least 1'),
    );
  });
});
