import { Body, Get, Param, Patch, Post } from '@nestjs/common';
import {
  type Model,
  type ModelDefinition,
  ModelRepository,
  TenantRepository,
} from '@marquee/gateway/data-access-db';
import { RequireAdmin } from '@marquee/gateway/feature-auth';
import { ApiError, ApiRoute, parseInput } from '@marquee/gateway/util-http';
import { z } from 'zod';
import { AdminController } from '../http/admin-controller';
import { Audited } from '../http/audited';
import { micros, positiveInt, uuid } from '../http/fields';
import { iso, list, str } from '../http/present';
import { idOf } from '../http/uuid-param';
import { contextLengthFromFolder } from './model-folder';

const modelFields = {
  name: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/,
      'letters, digits and ._:/- (at most 128)',
    ),
  task: z.enum(['text_generation', 'embedding']),
  version: z.string().min(1).max(64),
  artifact_path: z.string().min(1).max(1024),
  context_length: positiveInt,
  owned_by: z.string().min(1).max(200),
  /** A tenant id makes the model private to that tenant; null: public. */
  tenant_id: uuid.nullable(),
  input_price_per_mtok_micros: micros,
  output_price_per_mtok_micros: micros,
};
const createModel = z.strictObject({
  ...modelFields,
  task: modelFields.task.default('text_generation'),
  context_length: modelFields.context_length.optional(),
  version: modelFields.version.optional(),
  owned_by: modelFields.owned_by.optional(),
  tenant_id: modelFields.tenant_id.default(null),
  input_price_per_mtok_micros: micros.default(0n),
  output_price_per_mtok_micros: micros.default(0n),
});
const updateModel = z
  .strictObject(modelFields)
  .partial()
  .refine((b) => Object.keys(b).length > 0, 'send at least one field');

const toDefinition = (
  b: Partial<z.output<typeof createModel>>,
): Partial<ModelDefinition> => ({
  name: b.name,
  task: b.task,
  version: b.version,
  artifactPath: b.artifact_path,
  contextLength: b.context_length,
  ownedBy: b.owned_by,
  tenantId: b.tenant_id,
  inputPricePerMTokMicros: b.input_price_per_mtok_micros,
  outputPricePerMTokMicros: b.output_price_per_mtok_micros,
});

const presentModel = (m: Model) => ({
  id: m.id,
  object: 'model' as const,
  name: m.name,
  task: m.task,
  version: m.version,
  artifact_path: m.artifactPath,
  context_length: m.contextLength,
  owned_by: m.ownedBy,
  tenant_id: m.tenantId,
  input_price_per_mtok_micros: str(m.inputPricePerMTokMicros),
  output_price_per_mtok_micros: str(m.outputPricePerMTokMicros),
  created_at: iso(m.createdAt),
  updated_at: iso(m.updatedAt),
});

/** Models and their prices (integer micro-units per 1,000,000 tokens). */
@AdminController('models')
export class ModelsAdminController {
  constructor(
    private readonly models: ModelRepository,
    private readonly tenants: TenantRepository,
  ) {}

  @Post('models')
  @RequireAdmin('admin:write')
  @Audited('model.create', 'model')
  @ApiRoute({
    summary: 'Register a model and its prices',
    description:
      "Prices are integer micro-units per 1,000,000 tokens, as a JSON integer or a string of digits; fractions are refused. `context_length` comes from the model folder's `marquee.json` when the gateway can read `artifact_path` (a value that disagrees with it, or a `task` that does, is refused); otherwise it is required.",
    body: createModel,
  })
  async create(@Body() body: unknown) {
    const input = parseInput(createModel, body);
    await this.checkTenant(input.tenant_id);
    const contextLength = await contextLengthFromFolder({
      artifactPath: input.artifact_path,
      task: input.task,
      contextLength: input.context_length,
    });
    return presentModel(
      await this.models.create({
        ...toDefinition(input),
        contextLength,
      } as ModelDefinition),
    );
  }

  @Get('models')
  @RequireAdmin('admin:read')
  @ApiRoute({ summary: 'List models with their prices' })
  async list() {
    return list((await this.models.list()).map(presentModel));
  }

  @Get('models/:id')
  @RequireAdmin('admin:read')
  @ApiRoute({ summary: 'Get a model' })
  async get(@Param('id', idOf('Model')) id: string) {
    const model = await this.models.findById(id);
    if (!model) throw ApiError.notFound('Model');
    return presentModel(model);
  }

  @Patch('models/:id')
  @RequireAdmin('admin:write')
  @Audited('model.update', 'model')
  @ApiRoute({
    summary: 'Change a model or its prices',
    description:
      'New prices apply to requests settled from now on; recorded usage keeps its cost.',
    body: updateModel,
  })
  async update(@Param('id', idOf('Model')) id: string, @Body() body: unknown) {
    const input = parseInput(updateModel, body);
    await this.checkTenant(input.tenant_id);
    const definition = toDefinition(input);
    if (input.artifact_path ?? input.task ?? input.context_length) {
      const current = await this.models.findById(id);
      if (!current) throw ApiError.notFound('Model');
      const artifactPath = input.artifact_path ?? current.artifactPath;
      definition.contextLength = await contextLengthFromFolder({
        artifactPath,
        task: input.task ?? current.task,
        // A new folder brings its own context length unless the admin sends one.
        contextLength:
          input.context_length ??
          (artifactPath === current.artifactPath
            ? current.contextLength
            : undefined),
      });
    }
    const model = await this.models.update(id, definition);
    if (!model) throw ApiError.notFound('Model');
    return presentModel(model);
  }

  private async checkTenant(tenantId: string | null | undefined) {
    if (tenantId && !(await this.tenants.findById(tenantId)))
      throw ApiError.invalidRequest(
        `No tenant with id '${tenantId}'.`,
        'tenant_id',
        'tenant_not_found',
      );
  }
}
