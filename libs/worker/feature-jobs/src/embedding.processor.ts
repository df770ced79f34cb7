import { Injectable, Optional } from '@nestjs/common';
import {
  type EmbeddingJob,
  embeddingJobSchema,
} from '@marquee/contracts/queue';
import { WorkerMetrics } from '@marquee/shared/util-observability';
import type { Embedder } from '@marquee/worker/inference';
import {
  ModelHost,
  WorkerPresenceReporter,
} from '@marquee/worker/feature-models';
import { GatewayLinkPool } from '@marquee/worker/transport-grpc';
import { WorkerConfig } from '@marquee/worker/util-config';
import { QueueProcessor } from './queue-processor';
import { runEmbeddingJob } from './run-embedding-job';
import { UsageRecorder } from './usage-recorder.service';

/**
 * Runs embedding jobs for the embedding models this worker serves: each job's inputs join its
 * model's embedder, which batches them dynamically with other jobs' inputs.
 */
@Injectable()
export class EmbeddingProcessor extends QueueProcessor<EmbeddingJob, Embedder> {
  constructor(
    config: WorkerConfig,
    host: ModelHost,
    links: GatewayLinkPool,
    recorder: UsageRecorder,
    presence: WorkerPresenceReporter,
    @Optional() metrics?: WorkerMetrics,
  ) {
    super(
      EmbeddingProcessor.name,
      {
        schema: embeddingJobSchema,
        model: (job) => host.embedder(job.model),
        billed: (job) => ({ ...job, endpoint: 'embeddings' }),
        run: (job, embedder, sink, signal, recordUsage) =>
          runEmbeddingJob(
            job,
            embedder,
            sink,
            config.workerId,
            recordUsage,
            signal,
          ),
      },
      { config, host, links, recorder, presence, metrics },
    );
  }

  protected servedModels(): readonly string[] {
    return this.deps.host.embeddingNames;
  }
}
