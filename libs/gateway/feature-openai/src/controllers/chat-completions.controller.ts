import { Body, Controller, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiKeyGuard } from '@marquee/gateway/feature-auth';
import { CurrentPrincipal, type Principal } from '@marquee/gateway/util-http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InferenceRunner } from '../inference/inference-runner.service';
import { chatFormat } from '../responses/response-format';
import { ResponseWriter } from '../responses/response-writer.service';
import {
  chatCompletionRequestSchema,
  chatPrompt,
} from '../schemas/chat-completion-request.schema';
import { samplingExtras, stopList } from '../schemas/sampling.schema';
import { structuredOutput } from '../schemas/structured-output.schema';
import { parseBody } from '../schemas/validate';
import { createdAt, responseId } from './ids';

@Controller('v1/chat/completions')
@UseGuards(ApiKeyGuard)
export class ChatCompletionsController {
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
    const body = parseBody(chatCompletionRequestSchema, rawBody);
    const n = body.n ?? 1;
    const output = structuredOutput(body);
    const run = await this.runner.start({
      arrivedAt: performance.now() - reply.elapsedTime,
      principal,
      requestId: request.id,
      endpoint: 'chat.completions',
      model: body.model,
      prompts: [chatPrompt(body.messages, output.tools)],
      sampling: {
        // Absent: up to the rest of the model's context, as OpenAI does.
        maxTokens: body.max_completion_tokens ?? body.max_tokens,
        n,
        temperature: body.temperature ?? 1,
        topP: body.top_p ?? 1,
        seed: body.seed,
        stop: stopList(body.stop),
        ...samplingExtras(body),
        ...(body.logprobs ? { logprobs: body.top_logprobs ?? 0 } : {}),
        ...(output.constraint ? { constraint: output.constraint } : {}),
      },
    });
    const format = chatFormat({
      id: responseId('chatcmpl', request.id),
      created: createdAt(),
      model: run.model.name,
      logprobs: body.logprobs === true,
      toolCalls: output.toolCalls,
    });
    await this.writer.send(
      run,
      format,
      {
        stream: body.stream ?? false,
        includeUsage: body.stream_options?.include_usage ?? false,
        choiceCount: n,
        requestId: request.id,
      },
      reply,
    );
  }
}
