import { Injectable, Optional } from '@nestjs/common';
import {
  type InferenceJob,
  inferenceJobSchema,
} from '@marquee/contracts/queue';
import { WorkerMetrics } from '@marquee/shared/util-observability';
import type { TextGenerator } from '@marquee/worker/inference';
import {
  ModelHost,
  WorkerPresenceReporter,
} from '@marquee/worker/feature-models';
import { GatewayLinkPool } from '@marquee/worker/transport-grpc';
import { WorkerConfig } from '@marquee/worker/util-config';
import { QueueProcessor } from './queue-processor';
import { runJob } from './run-job';
import { UsageRecorder } from './usage-recorder.service';

/**
 * Runs completion and chat jobs for the text-generation models this worker serves: each job
 * joins its model's scheduler, which batches the running ones step by step, and streams its
 * tokens to the gateway that queued it.
 */
@Injectable()
export class InferenceProcessor extends QueueProcessor<
  InferenceJob,
  TextGenerator
> {
  constructor(
    config: WorkerConfig,
    host: ModelHost,
    links: GatewayLinkPool,
    recorder: UsageRecorder,
    presence: WorkerPresenceReporter,
    @Optional() metrics?: WorkerMetrics,
  ) {
    super(
      InferenceProcessor.name,
      {
        schema: inferenceJobSchema,
        model: (job) => host.get(job.model),
        billed: (job) => job,
        run: (job, generator, sink, signal, recordUsage) =>
          runJob(job, generator, sink, config.workerId, signal, recordUsage),
      },
      { config, host, links, recorder, presence, metrics },
    );
    // The gateway link tells its gateway how busy this worker is.
    links.reportActiveRequests(() => this.running);
  }

  protected servedModels(): readonly string[] {
    return this.deps.host.names;
  }

  override async onModuleDestroy(): Promise<void> {
    await super.onModuleDestroy();
    await this.deps.host.dispose();
  }
}
