import {
  Body,
  Controller,
  Delete,
  Get,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiKeyGuard } from '@marquee/gateway/feature-auth';
import {
  ApiError,
  CurrentPrincipal,
  type Principal,
} from '@marquee/gateway/util-http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createdAt } from '../controllers/ids';
import {
  InferenceRunner,
  type RunningRequest,
} from '../inference/inference-runner.service';
import { structuredOutput } from '../schemas/structured-output.schema';
import { parseBody } from '../schemas/validate';
import { conversationOf, conversationPrompt } from './conversation';
import { inResponsesTerms } from './response-errors';
import { ResponseEventSequence } from './response-events';
import { RESPONSE_FIELDS } from './response-fields';
import { ResponseEnvelope, ResponseIds } from './response-object';
import { responseRequestSchema } from './response-request.schema';
import { ResponseStore } from './response-store.service';
import { ResponsesWriter } from './responses-writer.service';
import { chatShapes } from './structured-output-shapes';

/**
 * The OpenAI Responses API over the chat path: `input` items become a chat prompt (tools and
 * grammar as chat completions has them), the run is admitted, queued and billed as a chat
 * completion (endpoint `responses`), and the output comes back as response items.
 */
@Controller('v1/responses')
@UseGuards(ApiKeyGuard)
export class ResponsesController {
  constructor(
    private readonly runner: InferenceRunner,
    private readonly writer: ResponsesWriter,
    private readonly store: ResponseStore,
  ) {}

  @Post()
  async create(
    @Body() rawBody: unknown,
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const body = parseBody(responseRequestSchema, rawBody, RESPONSE_FIELDS);
    const { tenantId } = principal;
    const output = structuredOutput(chatShapes(body));
    const conversation = [
      ...(body.previous_response_id
        ? await this.store.continuing(tenantId, body.previous_response_id)
        : []),
      ...(await conversationOf(body.input, this.store.itemLookup(tenantId))),
    ];
    let run: RunningRequest;
    try {
      run = await this.runner.start({
        arrivedAt: performance.now() - reply.elapsedTime,
        principal,
        requestId: request.id,
        endpoint: 'responses',
        model: body.model,
        prompts: [
          conversationPrompt(body.instructions, conversation, output.tools),
        ],
        sampling: {
          // Absent: up to the rest of the model's context, as OpenAI does.
          maxTokens: body.max_output_tokens,
          n: 1,
          temperature: body.temperature ?? 1,
          topP: body.top_p ?? 1,
          stop: [],
          ...(output.constraint ? { constraint: output.constraint } : {}),
        },
      });
    } catch (error) {
      throw error instanceof ApiError ? inResponsesTerms(error) : error;
    }
    const ids = new ResponseIds(request.id);
    const envelope = new ResponseEnvelope(
      ids.response,
      createdAt(),
      run.model.name,
      body,
    );
    await this.writer.send(
      run,
      new ResponseEventSequence(envelope, ids, output.toolCalls),
      {
        stream: body.stream ?? false,
        requestId: request.id,
        ...(body.store === false
          ? {}
          : {
              keep: (response) =>
                this.store.save(tenantId, response, conversation),
            }),
      },
      reply,
    );
  }

  @Get(':id')
  async retrieve(
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
    @CurrentPrincipal() principal: Principal,
  ) {
    if (query['stream'] === 'true')
      throw ApiError.invalidRequest(
        "Unsupported value for 'stream': only background responses can be streamed again, and Marquee runs none.",
        'stream',
        'unsupported_value',
      );
    return this.store.get(principal.tenantId, id);
  }

  @Delete(':id')
  async remove(
    @Param('id') id: string,
    @CurrentPrincipal() principal: Principal,
  ) {
    await this.store.delete(principal.tenantId, id);
    return { id, object: 'response', deleted: true };
  }
}
