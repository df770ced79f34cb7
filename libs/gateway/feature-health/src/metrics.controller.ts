import { Controller, Get, Res } from '@nestjs/common';
import { GatewayMetrics } from '@marquee/shared/util-observability';
import type { FastifyReply } from 'fastify';

/** Prometheus exposition for this replica. */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: GatewayMetrics) {}

  @Get()
  async scrape(@Res() reply: FastifyReply): Promise<void> {
    const { contentType, body } = await this.metrics.scrape();
    await reply.header('content-type', contentType).send(body);
  }
}
