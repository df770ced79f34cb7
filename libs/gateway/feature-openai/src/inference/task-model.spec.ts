import type { Model } from '@marquee/gateway/data-access-db';
import { ApiError, type Principal } from '@marquee/gateway/util-http';
import type { RequestAccounting } from './request-accounting.service';
import { modelForTask } from './task-model';

const principal = { tenantId: 't1', allowedModels: [] } as unknown as Principal;

/** Accounting whose key sees `models` (by name), as visibleModel does: task must match. */
function accountingWith(
  models: Record<string, Model['task']>,
  failOtherTask = false,
): RequestAccounting {
  return {
    visibleModel: async (name: string, task: Model['task']) => {
      if (models[name] === task) return { name, task } as Model;
      if (failOtherTask && models[name] !== undefined)
        throw ApiError.databaseUnavailable();
      throw ApiError.modelNotFound(name);
    },
  } as unknown as RequestAccounting;
}

async function errorOf(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ApiError)) throw new Error('expected an ApiError');
  return error;
}

describe('modelForTask', () => {
  const accounting = accountingWith({
    tiny: 'text_generation',
    emb: 'embedding',
  });

  it('returns a model the key may use for the task', async () => {
    await expect(
      modelForTask(accounting, 'tiny', 'text_generation', principal, null),
    ).resolves.toMatchObject({ name: 'tiny' });
  });

  it('answers an embedding model on a generation endpoint with 400 naming model and the endpoint to use', async () => {
    const error = await errorOf(
      modelForTask(
        accounting,
        'emb',
        'text_generation',
        principal,
        '/v1/chat/completions',
      ),
    );
    expect(error).toMatchObject({
      status: 400,
      type: 'invalid_request_error',
      param: 'model',
      code: 'model_task_mismatch',
      message:
        'The model `emb` is an embedding model and cannot be used with /v1/chat/completions; use /v1/embeddings.',
    });
  });

  it('answers a text-generation model on /v1/embeddings with 400 pointing to the generation endpoints', async () => {
    const error = await errorOf(
      modelForTask(
        accounting,
        'tiny',
        'embedding',
        principal,
        '/v1/embeddings',
      ),
    );
    expect(error.status).toBe(400);
    expect(error.message).toBe(
      'The model `tiny` is a text-generation model and cannot be used with /v1/embeddings; use /v1/chat/completions, /v1/completions or /v1/responses.',
    );
  });

  it('keeps 404 model_not_found for a model the key cannot see at all', async () => {
    const error = await errorOf(
      modelForTask(
        accounting,
        'nope',
        'embedding',
        principal,
        '/v1/embeddings',
      ),
    );
    expect(error).toMatchObject({ status: 404, code: 'model_not_found' });
  });

  it('reports a failure of the second look instead of guessing', async () => {
    const error = await errorOf(
      modelForTask(
        accountingWith({ emb: 'embedding' }, true),
        'emb',
        'text_generation',
        principal,
        null,
      ),
    );
    expect(error.code).toBe('database_unavailable');
  });
});
