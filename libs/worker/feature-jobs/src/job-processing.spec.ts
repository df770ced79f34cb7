import type { Logger } from '@nestjs/common';
import { InferenceError } from '@marquee/worker/inference';
import type { GatewayLinkPool } from '@marquee/worker/transport-grpc';
import { type Job, UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { type JobKind, JobProcessing, type QueuedJob } from './job-processing';
import type { UsageRecorder } from './usage-recorder.service';

const jobSchema = z.object({
  requestId: z.string(),
  model: z.string(),
  enqueuedAt: z.number(),
  replyTo: z.object({ gatewayId: z.string(), address: z.string() }),
});

const payload: QueuedJob = {
  requestId: 'req-1',
  model: 'm',
  enqueuedAt: 0,
  replyTo: { gatewayId: 'g', address: '127.0.0.1:1' },
};

function setup(run: JobKind<QueuedJob, object>['run']) {
  const billed: string[] = [];
  const quiet = () => undefined;
  const processing = new JobProcessing<QueuedJob, object>(
    {
      schema: jobSchema,
      model: (job) => (job.model === 'm' ? {} : undefined),
      billed: (job) => ({
        ...job,
        tenantId: 't',
        apiKeyId: 'k',
        endpoint: 'completions',
      }),
      run,
    },
    {
      links: {
        onCancel: quiet,
        onLinkClosed: quiet,
        link: () => ({ send: quiet }),
      } as unknown as GatewayLinkPool,
      recorder: {
        claimIfAlive: async () => ({ claimed: true, alive: true }),
        unclaimRun: async () => undefined,
        record: async (job: { requestId: string }) =>
          void billed.push(job.requestId),
        dropped: async () => undefined,
      } as unknown as UsageRecorder,
      logger: { warn: quiet, error: quiet } as unknown as Logger,
    },
  );
  return { processing, billed };
}

const asJob = (data: unknown) => ({ data }) as Job<QueuedJob>;

describe('JobProcessing', () => {
  it('stops a running job when its queue lock is lost, and fails it without a retry', async () => {
    let runSignal: AbortSignal | undefined;
    const { processing } = setup(
      (_job, _model, _sink, signal) =>
        new Promise((_resolve, reject) => {
          runSignal = signal;
          signal.addEventListener('abort', () =>
            reject(new InferenceError('cancelled', 'stopped')),
          );
        }),
    );
    const lockLost = new AbortController();
    const processed = processing.process(asJob(payload), lockLost.signal);
    await new Promise((resolve) => setImmediate(resolve));
    expect(runSignal?.aborted).toBe(false);
    lockLost.abort();
    await expect(processed).rejects.toBeInstanceOf(UnrecoverableError);
    expect(runSignal?.aborted).toBe(true);
    expect(processing.running).toBe(0);
  });

  it('fails a payload that does not match its schema without a retry, before running it', async () => {
    const run = jest.fn();
    const { processing } = setup(run);
    await expect(
      processing.process(asJob({ requestId: 'x' })),
    ).rejects.toBeInstanceOf(UnrecoverableError);
    expect(run).not.toHaveBeenCalled();
  });

  it('records the usage of a job that ran to its end', async () => {
    const { processing, billed } = setup(
      async (_job, _model, _sink, _signal, recordUsage) =>
        recordUsage({
          promptTokens: 1,
          completionTokens: 2,
          finishReason: 'stop',
        }),
    );
    await processing.process(asJob(payload));
    expect(billed).toEqual(['req-1']);
  });
});
