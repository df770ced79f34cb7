import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { type Model, ModelRepository } from '@marquee/gateway/data-access-db';
import { ApiKeyGuard } from '@marquee/gateway/feature-auth';
import {
  ApiError,
  CurrentPrincipal,
  type Principal,
} from '@marquee/gateway/util-http';

const toOpenAiModel = (m: Model) => ({
  id: m.name,
  object: 'model',
  created: Math.floor(m.createdAt.getTime() / 1000),
  owned_by: m.ownedBy,
});

/** Whether the key may call `model` (a key without `allowed_models` may call any). */
const keyMayUse = (principal: Principal, model: Model) =>
  principal.allowedModels.length === 0 ||
  principal.allowedModels.includes(model.name);

@Controller('v1/models')
@UseGuards(ApiKeyGuard)
export class ModelsController {
  constructor(private readonly models: ModelRepository) {}

  @Get()
  async list(@CurrentPrincipal() principal: Principal) {
    // Public models and the caller's private ones (never another tenant's), and of those only
    // the ones this key may call.
    const models = await this.models.listVisible(principal.tenantId);
    return {
      object: 'list',
      data: models.filter((m) => keyMayUse(principal, m)).map(toOpenAiModel),
    };
  }

  @Get(':model')
  async retrieve(
    @Param('model') name: string,
    @CurrentPrincipal() principal: Principal,
  ) {
    const model = await this.models.findVisibleByName(name, principal.tenantId);
    if (!model || !keyMayUse(principal, model))
      throw ApiError.modelNotFound(name);
    return toOpenAiModel(model);
  }
}
