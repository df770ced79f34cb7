import { Body, Controller, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { PromptPayload } from '@marquee/contracts/queue';
import { ApiKeyGuard } from '@marquee/gateway/feature-auth';
import { CurrentPrincipal, type Principal } from '@marquee/gateway/util-http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InferenceRunner } from '../inference/inference-runner.service';
import { completionFormat } from '../responses/response-format';
import { ResponseWriter } from '../responses/response-writer.service';
import {
  type CompletionRequest,
  completionRequestSchema,
} from '../schemas/completion-request.schema';
import { samplingExtras, stopList } from '../schemas/sampling.schema';
import { parseBody } from '../schemas/validate';
import { createdAt, responseId } from './ids';

/** Legacy completions default to 16 new tokens, as OpenAI's do. */
export const DEFAULT_COMPLETION_MAX_TOKENS = 16;

@Controller('v1/completions')
@UseGuards(ApiKeyGuard)
export class CompletionsController {
  constructor(
    private readonly runner: InferenceRunner,
    private readonly writer: ResponseWriter,
  ) {}

  @Post()
  async create(
    @Body() rawBody: unknown,
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const body = parseBody(completionRequestSchema, rawBody);
    const prompts = toPrompts(body.prompt);
    const n = body.n ?? 1;
    const run = await this.runner.start({
      arrivedAt: performance.now() - reply.elapsedTime,
      principal,
      requestId: request.id,
      endpoint: 'completions',
      model: body.model,
      prompts,
      sampling: {
        maxTokens: body.max_tokens ?? DEFAULT_COMPLETION_MAX_TOKENS,
        n,
        temperature: body.temperature ?? 1,
        topP: body.top_p ?? 1,
        seed: body.seed,
        stop: stopList(body.stop),
        ...samplingExtras(body),
        ...(body.logprobs !== undefined ? { logprobs: body.logprobs } : {}),
      },
    });
    const format = completionFormat({
      id: responseId('cmpl', request.id),
      created: createdAt(),
      model: run.model.name,
      logprobs: body.logprobs !== undefined,
    });
    await this.writer.send(
      run,
      format,
      {
        stream: body.stream ?? false,
        includeUsage: body.stream_options?.include_usage ?? false,
        choiceCount: prompts.length * n,
        requestId: request.id,
      },
      reply,
    );
  }
}

export function toPrompts(
  prompt: CompletionRequest['prompt'],
): PromptPayload[] {
  if (typeof prompt === 'string') return [{ kind: 'text', text: prompt }];
  if (prompt.every((p) => typeof p === 'string'))
    return (prompt as string[]).map((text) => ({ kind: 'text', text }));
  if (prompt.every((p) => typeof p === 'number'))
    return [{ kind: 'tokens', ids: prompt as number[] }];
  return (prompt as number[][]).map((ids) => ({ kind: 'tokens', ids }));
}
