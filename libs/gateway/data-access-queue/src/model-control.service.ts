import { Injectable } from '@nestjs/common';
import {
  MODEL_CONTROL_CHANNEL,
  MODEL_DESIRED_STATE_KEY,
  type ModelControlMessage,
  modelControlMessageSchema,
} from '@marquee/contracts/queue';
import { RedisConnection } from './redis.provider';

/**
 * Tells workers to load or unload a model: stores the message as the model's desired state
 * (replayed by workers that start later) and publishes it to the live ones.
 */
@Injectable()
export class ModelControl {
  constructor(private readonly redis: RedisConnection) {}

  /** Validated against the shared schema first. Resolves to the number of workers listening. */
  async send(message: ModelControlMessage): Promise<number> {
    const payload = JSON.stringify(modelControlMessageSchema.parse(message));
    const results = await this.redis.client
      .multi()
      .hset(MODEL_DESIRED_STATE_KEY, message.name, payload)
      .publish(MODEL_CONTROL_CHANNEL, payload)
      .exec();
    const failed = results?.find(([error]) => error);
    if (!results || failed)
      throw failed?.[0] ?? new Error('transaction aborted');
    return Number(results[1]?.[1] ?? 0);
  }
}
