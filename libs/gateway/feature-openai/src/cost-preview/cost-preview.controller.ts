import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import type { PromptPayload } from '@marquee/contracts/queue';
import { ApiKeyGuard } from '@marquee/gateway/feature-auth';
import { costMicros } from '@marquee/gateway/util-billing';
import { CurrentPrincipal, type Principal } from '@marquee/gateway/util-http';
import {
  DEFAULT_COMPLETION_MAX_TOKENS,
  toPrompts,
} from '../controllers/completions.controller';
import { InferenceRunner } from '../inference/inference-runner.service';
import {
  chatCompletionRequestSchema,
  chatPrompt,
} from '../schemas/chat-completion-request.schema';
import { completionRequestSchema } from '../schemas/completion-request.schema';
import { structuredOutput } from '../schemas/structured-output.schema';
import { parseBody } from '../schemas/validate';
import { PromptCounter } from './prompt-counter.service';

/**
 * `POST /v1/cost-preview`: what a chat or completion body would cost, before sending it. Counts
 * the prompt exactly and prices the range from no completion tokens to every choice using
 * all of `max_tokens`. Nothing is queued or billed.
 */
@Controller('v1/cost-preview')
@UseGuards(ApiKeyGuard)
export class CostPreviewController {
  constructor(
    private readonly runner: InferenceRunner,
    private readonly counter: PromptCounter,
  ) {}

  @Post()
  @HttpCode(200)
  async preview(
    @Body() rawBody: unknown,
    @CurrentPrincipal() principal: Principal,
  ) {
    const isChat =
      typeof rawBody === 'object' && rawBody !== null && 'messages' in rawBody;
    let prompts: PromptPayload[];
    let n: number;
    let maxTokens: number | undefined;
    if (isChat) {
      const body = parseBody(chatCompletionRequestSchema, rawBody);
      prompts = [chatPrompt(body.messages, structuredOutput(body).tools)];
      n = body.n ?? 1;
      maxTokens = body.max_completion_tokens ?? body.max_tokens;
    } else {
      const body = parseBody(completionRequestSchema, rawBody);
      prompts = toPrompts(body.prompt);
      n = body.n ?? 1;
      maxTokens = body.max_tokens ?? DEFAULT_COMPLETION_MAX_TOKENS;
    }
    const model = await this.runner.resolveModel({
      model: (rawBody as { model: string }).model,
      principal,
      sampling: { maxTokens, n, temperature: 1, topP: 1, stop: [] },
    });
    const promptTokens = await this.counter.count(model, prompts);
    const perChoice =
      maxTokens ?? Math.max(0, model.contextLength - promptTokens);
    const maxCompletionTokens = perChoice * n * prompts.length;
    const prices = {
      inputPricePerMTokMicros: model.inputPricePerMTokMicros,
      outputPricePerMTokMicros: model.outputPricePerMTokMicros,
    };
    return {
      object: 'cost_preview',
      model: model.name,
      prompt_tokens: promptTokens,
      max_completion_tokens: maxCompletionTokens,
      input_price_per_mtok_micros: prices.inputPricePerMTokMicros.toString(),
      output_price_per_mtok_micros: prices.outputPricePerMTokMicros.toString(),
      cost_micros: {
        min: costMicros({
          promptTokens,
          completionTokens: 0,
          ...prices,
        }).toString(),
        max: costMicros({
          promptTokens,
          completionTokens: maxCompletionTokens,
          ...prices,
        }).toString(),
      },
    };
  }
}
