import type { MarqueeRequestState } from '@marquee/gateway/util-http';
import type { GatewayMetrics } from '@marquee/shared/util-observability';
import type { FastifyReply } from 'fastify';
import type { RunningRequest } from '../inference/inference-runner.service';
import { meteredRun } from './metered-run';

/**
 * Delivers a running request through `write`, as every generation endpoint does: observed by the
 * gateway's metrics (when there are any), with the admission's rate-limit headers, cancelled when
 * the client goes away before it is done, and its last stage (the response) timed.
 */
export async function deliverRun(
  run: RunningRequest,
  reply: FastifyReply,
  metrics: GatewayMetrics | undefined,
  write: (run: RunningRequest) => Promise<void>,
): Promise<void> {
  if (metrics) {
    const tenant =
      (reply.request as unknown as MarqueeRequestState).principal?.tenantId ??
      'unknown';
    run = meteredRun(
      run,
      metrics,
      tenant,
      performance.now() - reply.elapsedTime,
    );
  }
  void reply.headers(run.headers);
  let finished = false;
  reply.raw.on('close', () => {
    if (!finished) run.cancel();
  });
  try {
    await write(run);
    run.clock.lap('response');
  } finally {
    finished = true;
  }
}

/**
 * Takes the reply over from Fastify and opens a Server-Sent Events response carrying the headers
 * set so far (once a worker has the request: errors before that keep their status code).
 */
export function openEventStream(reply: FastifyReply): void {
  reply.hijack();
  reply.raw.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
}
