import { Body, HttpCode, Param, Post } from '@nestjs/common';
import {
  MODEL_NAME_PATTERN,
  type ModelControlMessage,
} from '@marquee/contracts/queue';
import { type Model, ModelRepository } from '@marquee/gateway/data-access-db';
import { ModelControl } from '@marquee/gateway/data-access-queue';
import { RequireAdmin } from '@marquee/gateway/feature-auth';
import { ApiError, ApiRoute, parseInput } from '@marquee/gateway/util-http';
import { GatewayMetrics } from '@marquee/shared/util-observability';
import { z } from 'zod';
import { AdminController } from '../http/admin-controller';
import { Audited } from '../http/audited';
import { redisUnavailable } from '../http/redis-unavailable';
import { idOf } from '../http/uuid-param';

const target = z.strictObject({
  /** Only these workers (ids as `GET /admin/v1/workers` lists them); absent: every worker. */
  worker_ids: z.array(z.string().min(1).max(200)).min(1).max(100).optional(),
});

/**
 * Loads and unloads registered models on running workers, without a restart. Each call is
 * stored as the model's desired state, so workers that start later follow it too.
 */
@AdminController('models')
export class ModelLoadingController {
  constructor(
    private readonly models: ModelRepository,
    private readonly control: ModelControl,
    private readonly metrics: GatewayMetrics,
  ) {}

  @Post('models/:id/load')
  @HttpCode(202)
  @RequireAdmin('admin:write')
  @Audited('model.load', 'model')
  @ApiRoute({
    summary: 'Load a model on running workers',
    description:
      "Workers read the model's `artifact_path` (it must lie inside their `MODELS_DIR` or `MODEL_ROOTS`; others refuse it), load it and start taking its requests. Asynchronous: 202 once the workers are told; `GET /admin/v1/workers` shows the result, and `model_errors` any refusal.",
    body: target,
  })
  async load(@Param('id', idOf('Model')) id: string, @Body() body: unknown) {
    const input = parseInput(target, body);
    const model = await this.servable(id);
    return this.send(model, {
      action: 'load',
      name: model.name,
      workerIds: input.worker_ids,
      requestedAt: Date.now(),
      task: model.task,
      version: model.version,
      artifactPath: model.artifactPath,
    });
  }

  @Post('models/:id/unload')
  @HttpCode(202)
  @RequireAdmin('admin:write')
  @Audited('model.unload', 'model')
  @ApiRoute({
    summary: 'Unload a model from running workers',
    description:
      'Workers stop taking its requests, let running ones finish, then free the model. Requests queued for it wait for another worker that serves it, up to the queue timeout (then 503 `no_worker_available`).',
    body: target,
  })
  async unload(@Param('id', idOf('Model')) id: string, @Body() body: unknown) {
    const input = parseInput(target, body);
    const model = await this.servable(id);
    return this.send(model, {
      action: 'unload',
      name: model.name,
      workerIds: input.worker_ids,
      requestedAt: Date.now(),
    });
  }

  private async servable(id: string): Promise<Model> {
    const model = await this.models.findById(id);
    if (!model) throw ApiError.notFound('Model');
    // Queue names carry the model name; only slugs can have queues.
    if (!MODEL_NAME_PATTERN.test(model.name))
      throw ApiError.invalidRequest(
        `Model '${model.name}' cannot be served: names of served models are lowercase letters, digits and ._- (at most 64).`,
        null,
        'invalid_model_name',
      );
    return model;
  }

  private async send(model: Model, message: ModelControlMessage) {
    const workersNotified = await this.control.send(message).catch(
      this.metrics.failures.replace('model_control.send', redisUnavailable, {
        model: model.name,
      }),
    );
    return {
      id: model.id,
      object: 'model.desired_state' as const,
      name: model.name,
      desired_state: message.action === 'load' ? 'loaded' : 'unloaded',
      worker_ids: message.workerIds ?? null,
      workers_notified: workersNotified,
    };
  }
}
