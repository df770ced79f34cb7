import { Body, Controller, Post, Req, Res, UseGuards } from '@nestjs/common';
import { type EmbeddingMessage, unpackFloat32 } from '@marquee/contracts/proto';
import type { EmbeddingInputPayload } from '@marquee/contracts/queue';
import { ApiKeyGuard } from '@marquee/gateway/feature-auth';
import { CurrentPrincipal, type Principal } from '@marquee/gateway/util-http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { failureToApiError } from '../responses/failure-to-api-error';
import { parseBody } from '../schemas/validate';
import {
  type EmbeddingRequest,
  embeddingRequestSchema,
} from './embedding-request.schema';
import { EmbeddingRunner } from './embedding-runner.service';

/** `POST /v1/embeddings`, in OpenAI's shape (`encoding_format` float or base64). */
@Controller('v1/embeddings')
@UseGuards(ApiKeyGuard)
export class EmbeddingsController {
  constructor(private readonly runner: EmbeddingRunner) {}

  @Post()
  async create(
    @Body() rawBody: unknown,
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const body = parseBody(embeddingRequestSchema, rawBody);
    let done = false;
    reply.raw.on('close', () => {
      if (!done) this.runner.cancel(request.id);
    });
    try {
      const { model, outcome, headers } = await this.runner.run({
        principal,
        requestId: request.id,
        model: body.model,
        inputs: toInputs(body.input),
        dimensions: body.dimensions,
      });
      void reply.headers(headers);
      if (outcome.type === 'failed')
        throw failureToApiError(outcome, request.id);
      await reply.status(200).send({
        object: 'list',
        data: [...(outcome.embeddings ?? [])]
          .sort((a, b) => a.index - b.index)
          .map((e) => ({
            object: 'embedding',
            index: e.index,
            embedding: encode(e, body.encoding_format),
          })),
        model: model.name,
        usage: {
          prompt_tokens: outcome.promptTokens,
          total_tokens: outcome.promptTokens,
        },
      });
    } finally {
      done = true;
    }
  }
}

function toInputs(input: EmbeddingRequest['input']): EmbeddingInputPayload[] {
  if (typeof input === 'string') return [{ kind: 'text', text: input }];
  if (input.every((i) => typeof i === 'string'))
    return (input as string[]).map((text) => ({ kind: 'text', text }));
  if (input.every((i) => typeof i === 'number'))
    return [{ kind: 'tokens', ids: input as number[] }];
  return (input as number[][]).map((ids) => ({ kind: 'tokens', ids }));
}

/** base64 is the packed little-endian float32 bytes, exactly what the `openai` client decodes. */
function encode(
  embedding: EmbeddingMessage,
  format: 'float' | 'base64',
): number[] | string {
  if (format === 'base64')
    return Buffer.from(
      embedding.data.buffer,
      embedding.data.byteOffset,
      embedding.data.byteLength,
    ).toString('base64');
  return Array.from(unpackFloat32(embedding.data));
}
