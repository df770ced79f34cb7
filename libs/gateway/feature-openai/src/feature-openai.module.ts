import { Module } from '@nestjs/common';
import { StoredResponseRepository } from '@marquee/gateway/data-access-db';
import { AuthModule } from '@marquee/gateway/feature-auth';
import { FeatureQuotasModule } from '@marquee/gateway/feature-quotas';
import { TransportGrpcModule } from '@marquee/gateway/transport-grpc';
import { ChatCompletionsController } from './controllers/chat-completions.controller';
import { CompletionsController } from './controllers/completions.controller';
import { ModelsController } from './controllers/models.controller';
import { CostPreviewController } from './cost-preview/cost-preview.controller';
import { PromptCounter } from './cost-preview/prompt-counter.service';
import { EmbeddingRunner } from './embeddings/embedding-runner.service';
import { EmbeddingsController } from './embeddings/embeddings.controller';
import { JobDispatch } from './inference/job-dispatch.service';
import { InferenceRunner } from './inference/inference-runner.service';
import { GatewayPresence } from './inference/gateway-presence.service';
import { RequestAccounting } from './inference/request-accounting.service';
import { UsageSettler } from './inference/usage-settler.service';
import { ResponseWriter } from './responses/response-writer.service';
import { ResponseStore } from './responses-api/response-store.service';
import { ResponsesController } from './responses-api/responses.controller';
import { ResponsesWriter } from './responses-api/responses-writer.service';

/** The OpenAI-compatible API: `/v1/completions`, `/v1/chat/completions`, `/v1/responses`,
 * `/v1/embeddings`, `/v1/models`, `/v1/cost-preview`. */
@Module({
  imports: [AuthModule, TransportGrpcModule, FeatureQuotasModule],
  controllers: [
    CompletionsController,
    ChatCompletionsController,
    ResponsesController,
    EmbeddingsController,
    ModelsController,
    CostPreviewController,
  ],
  providers: [
    InferenceRunner,
    JobDispatch,
    RequestAccounting,
    ResponseWriter,
    ResponsesWriter,
    ResponseStore,
    StoredResponseRepository,
    EmbeddingRunner,
    PromptCounter,
    UsageSettler,
    GatewayPresence,
  ],
})
export class FeatureOpenAiModule {}
