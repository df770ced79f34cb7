import type { Model } from '@marquee/gateway/data-access-db';
import { ApiError, type Principal } from '@marquee/gateway/util-http';
import type { RequestAccounting } from './request-accounting.service';

const OTHER_TASK = {
  text_generation: 'embedding',
  embedding: 'text_generation',
} as const satisfies Record<Model['task'], Model['task']>;

const isModelNotFound = (error: unknown) =>
  error instanceof ApiError && error.code === 'model_not_found';

/**
 * The model named `name` for `task`, if this key may use it. One the key may use, but for the
 * other task, is a 400 on `model` saying which endpoint serves it (`endpoint`: the path called);
 * one it may not see at all stays a 404, revealing nothing of other tenants' models.
 */
export async function modelForTask(
  accounting: RequestAccounting,
  name: string,
  task: Model['task'],
  principal: Principal,
  endpoint: string | null,
): Promise<Model> {
  try {
    return await accounting.visibleModel(name, task, principal);
  } catch (error) {
    if (!isModelNotFound(error)) throw error;
    // Read from the model cache the first look just filled: no second database round trip.
    const other = OTHER_TASK[task];
    const servesOther = await accounting
      .visibleModel(name, other, principal)
      .then(
        () => true,
        (otherError: unknown) => {
          if (isModelNotFound(otherError)) return false;
          throw otherError;
        },
      );
    if (servesOther) throw ApiError.wrongModelTask(name, other, endpoint);
    throw error;
  }
}
