import type { WithdrawOutcome } from '@marquee/gateway/data-access-queue';
import { queueDeadline } from './queue-deadline';
import type { FailedEvent } from './request-accounting.service';

describe('queueDeadline', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function watch(outcomes: WithdrawOutcome[], timeoutMs = 60_000) {
    const state = { started: false, withdrawals: 0, exists: true };
    const failures: FailedEvent[] = [];
    const deadline = queueDeadline({
      timeoutMs,
      started: () => state.started,
      withdraw: async () => {
        state.withdrawals++;
        return outcomes.shift() ?? 'taken';
      },
      exists: async () => state.exists,
      fail: (event) => failures.push(event),
    });
    return { state, failures, deadline };
  }

  it('takes back a job no worker took by the timeout: 503 no_worker_available', async () => {
    const { state, failures } = watch(['withdrawn']);
    await jest.advanceTimersByTimeAsync(59_999);
    expect(state.withdrawals).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(failures.map((f) => f.code)).toEqual(['no_worker_available']);
  });

  it('leaves a started request alone', async () => {
    const { state, failures } = watch(['withdrawn']);
    state.started = true;
    await jest.advanceTimersByTimeAsync(120_000);
    expect(state.withdrawals).toBe(0);
    expect(failures).toEqual([]);
  });

  it('keeps looking at a job a worker holds without starting it, and ends the request once the job stays gone', async () => {
    const { state, failures } = watch(['taken', 'taken', 'gone', 'gone']);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(state.withdrawals).toBe(1);
    expect(failures).toEqual([]);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(state.withdrawals).toBe(3);
    expect(failures).toEqual([]);
    await jest.advanceTimersByTimeAsync(2_000);
    expect(state.withdrawals).toBe(4);
    expect(failures.map((f) => f.code)).toEqual(['worker_lost']);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(state.withdrawals).toBe(4);
  });

  it('gives a job that just ended time for its report before calling the worker lost', async () => {
    const { state, failures } = watch(['gone', 'gone']);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(state.withdrawals).toBe(1);
    state.started = true; // the report arrives
    await jest.advanceTimersByTimeAsync(10_000);
    expect(failures).toEqual([]);
  });

  it('looks again later when Redis cannot be asked', async () => {
    const failures: FailedEvent[] = [];
    let calls = 0;
    queueDeadline({
      timeoutMs: 1_000,
      started: () => false,
      withdraw: async () => {
        calls++;
        if (calls === 1) throw new Error('connection refused');
        return 'withdrawn';
      },
      exists: async () => true,
      fail: (event) => failures.push(event),
    });
    await jest.advanceTimersByTimeAsync(2_000);
    expect(calls).toBe(2);
    expect(failures.map((f) => f.code)).toEqual(['no_worker_available']);
  });

  it('stops looking once the worker reports the start, or the request ends', async () => {
    const a = watch(['taken', 'taken', 'gone']);
    await jest.advanceTimersByTimeAsync(60_000);
    a.state.started = true;
    await jest.advanceTimersByTimeAsync(60_000);
    expect(a.state.withdrawals).toBe(1);
    expect(a.failures).toEqual([]);

    const b = watch(['withdrawn']);
    b.deadline.clear();
    await jest.advanceTimersByTimeAsync(120_000);
    expect(b.state.withdrawals).toBe(0);
  });

  it('on cancel takes the job back and ends the request as cancelled, unless a worker holds or started it', async () => {
    const queued = watch(['withdrawn']);
    queued.deadline.cancel();
    await jest.advanceTimersByTimeAsync(0);
    expect(queued.failures.map((f) => f.code)).toEqual(['cancelled']);

    const held = watch(['taken']);
    held.deadline.cancel();
    await jest.advanceTimersByTimeAsync(0);
    expect(held.failures).toEqual([]);

    const running = watch(['withdrawn']);
    running.state.started = true;
    running.deadline.cancel();
    await jest.advanceTimersByTimeAsync(0);
    expect(running.state.withdrawals).toBe(0);
  });

  it('ends a request whose job Redis lost in an outage at once, not at the queue timeout', async () => {
    const { state, failures, deadline } = watch([]);
    deadline.recheck();
    await jest.advanceTimersByTimeAsync(5_000);
    expect(failures).toEqual([]);
    state.exists = false;
    deadline.recheck();
    await jest.advanceTimersByTimeAsync(2_000);
    expect(failures.map((f) => f.code)).toEqual(['queue_unavailable']);
    expect(state.withdrawals).toBe(0);
  });

  it('leaves a job that ended during the recheck to its report', async () => {
    const { state, failures, deadline } = watch([]);
    state.exists = false;
    deadline.recheck();
    state.started = true;
    await jest.advanceTimersByTimeAsync(2_000);
    expect(failures).toEqual([]);
  });

  it('takes a job back before the timeout when no live worker serves its model any more', async () => {
    const { state, failures, deadline } = watch(['withdrawn']);
    await jest.advanceTimersByTimeAsync(3_000);
    deadline.expireNow();
    await jest.advanceTimersByTimeAsync(0);
    expect(state.withdrawals).toBe(1);
    expect(failures.map((f) => f.code)).toEqual(['no_worker_available']);
    await jest.advanceTimersByTimeAsync(120_000);
    expect(state.withdrawals).toBe(1);
  });

  it('watches a requeued job again for a full timeout, and ends it as worker_lost if it stays gone', async () => {
    const { state, failures, deadline } = watch([]);
    state.started = true;
    await jest.advanceTimersByTimeAsync(30_000);
    // Its worker was lost before it streamed.
    state.started = false;
    deadline.restart();
    await jest.advanceTimersByTimeAsync(5_000);
    expect(failures).toEqual([]);
    state.exists = false;
    await jest.advanceTimersByTimeAsync(10_000);
    expect(failures.map((f) => f.code)).toEqual(['worker_lost']);
    expect(state.withdrawals).toBe(0);
  });

  it('lets another worker take a requeued job', async () => {
    const { state, failures, deadline } = watch([]);
    deadline.restart();
    await jest.advanceTimersByTimeAsync(8_000);
    state.started = true;
    state.exists = false;
    await jest.advanceTimersByTimeAsync(120_000);
    expect(failures).toEqual([]);
    expect(state.withdrawals).toBe(0);
  });
});
