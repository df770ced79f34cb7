import type { RequestEvent } from '@marquee/gateway/transport-grpc';
import type { GatewayMetrics } from '@marquee/shared/util-observability';
import type { RunningRequest } from '../inference/inference-runner.service';

/**
 * `run` with its events observed on the way to the client: time to first token (from
 * `arrivedAt`, a `performance.now()` value), the gap between tokens of each choice, token
 * counts by model and tenant, and the outcome.
 */
export function meteredRun(
  run: RunningRequest,
  metrics: GatewayMetrics,
  tenant: string,
  arrivedAt: number,
): RunningRequest {
  const model = run.model.name;
  async function* observe(): AsyncGenerator<RequestEvent> {
    let started = false;
    let firstToken = true;
    const lastTokenAt = new Map<number, number>();
    for await (const event of run.events()) {
      const now = performance.now();
      switch (event.type) {
        case 'started':
          started = true;
          break;
        case 'tokens': {
          if (event.tokens <= 0) break;
          if (firstToken) {
            metrics.timeToFirstToken.observe(
              { model },
              (now - arrivedAt) / 1000,
            );
            firstToken = false;
          }
          const last = lastTokenAt.get(event.choiceIndex);
          if (last !== undefined) {
            // A frame may carry several tokens: spread the gap evenly over them.
            const gap = (now - last) / 1000 / event.tokens;
            for (let i = 0; i < event.tokens; i++)
              metrics.interTokenLatency.observe({ model }, gap);
          }
          lastTokenAt.set(event.choiceIndex, now);
          break;
        }
        case 'finished':
          metrics.requests.inc({ model, outcome: 'finished' });
          metrics.recordUsage(
            model,
            tenant,
            event.promptTokens,
            event.completionTokens,
          );
          break;
        case 'failed':
          metrics.requests.inc({ model, outcome: event.code });
          if (started)
            metrics.recordUsage(
              model,
              tenant,
              event.promptTokens,
              event.completionTokens,
            );
          break;
      }
      yield event;
    }
  }
  return { ...run, events: observe };
}
