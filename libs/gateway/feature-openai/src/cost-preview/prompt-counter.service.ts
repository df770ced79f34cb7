import { Injectable } from '@nestjs/common';
import type { PromptPayload } from '@marquee/contracts/queue';
import type { Model } from '@marquee/gateway/data-access-db';
import { ApiError } from '@marquee/gateway/util-http';
import { PromptError, PromptTokenizer } from '@marquee/shared/tokenization';
import { GatewayMetrics } from '@marquee/shared/util-observability';

/** Counts prompt tokens exactly as the worker will, with the model's own tokenizer and template. */
@Injectable()
export class PromptCounter {
  private readonly tokenizers = new Map<string, Promise<PromptTokenizer>>();

  constructor(private readonly metrics: GatewayMetrics) {}

  async count(model: Model, prompts: PromptPayload[]): Promise<number> {
    const tokenizer = await this.tokenizer(model);
    let total = 0;
    for (const prompt of prompts) {
      try {
        total +=
          prompt.kind === 'tokens'
            ? prompt.ids.length
            : tokenizer.encode(prompt).length;
      } catch (error) {
        if (error instanceof PromptError)
          throw ApiError.invalidRequest(
            error.message,
            error.param,
            'invalid_prompt',
          );
        throw error;
      }
    }
    return total;
  }

  private tokenizer(model: Model): Promise<PromptTokenizer> {
    const key = `${model.id}:${model.updatedAt.getTime()}`;
    let loading = this.tokenizers.get(key);
    if (!loading) {
      loading = PromptTokenizer.load(model.artifactPath).catch((error) => {
        this.metrics.failures.report('tokenizer.load', error, {
          model: model.name,
        });
        this.tokenizers.delete(key);
        throw ApiError.unavailable(
          `The tokenizer of ${model.name} is not readable by this gateway.`,
          'tokenizer_unavailable',
        );
      });
      this.tokenizers.set(key, loading);
    }
    return loading;
  }
}
