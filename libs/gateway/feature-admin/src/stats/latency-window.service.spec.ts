import { GatewayMetrics } from '@marquee/shared/util-observability';
import { LatencyWindow } from './latency-window.service';

const api = (status: number, seconds: number, route = '/v1/completions') =>
  ({ method: 'POST', route, status_code: String(status) }) as const;

describe('LatencyWindow', () => {
  it("summarises this replica's /v1 responses: p95, 5xx and 4xx, time to first token and queue wait", async () => {
    const metrics = new GatewayMetrics();
    const window = new LatencyWindow(metrics);
    // 20 fast answers and two slow streams (9 %); one 503 and one 401; admin traffic is left out.
    for (let i = 0; i < 18; i += 1)
      metrics.httpDuration.observe(api(200, 0), 0.02);
    metrics.httpDuration.observe(api(503, 0), 0.02);
    metrics.httpDuration.observe(api(401, 0), 0.003);
    metrics.httpDuration.observe(api(200, 0, '/v1/chat/completions'), 8);
    metrics.httpDuration.observe(api(200, 0, '/v1/chat/completions'), 9);
    metrics.httpDuration.observe(
      { method: 'GET', route: '/admin/v1/tenants', status_code: '500' },
      50,
    );
    metrics.timeToFirstToken.observe({ model: 'm' }, 0.3);
    metrics.recordStage('queue_wait', 0.004);
    metrics.recordStage('first_token', 9);

    const summary = await window.summary();
    expect(summary).toMatchObject({
      requests: 22,
      server_errors: 1,
      refused: 1,
    });
    // Rank 20.9 of 22 lies in the (5, 10] s bucket: the slow streams show in the p95.
    expect(summary.p95_seconds).toBeGreaterThan(5);
    expect(summary.p95_seconds).toBeLessThanOrEqual(10);
    expect(summary.ttft_p95_seconds).toBeGreaterThan(0.25);
    expect(summary.ttft_p95_seconds).toBeLessThanOrEqual(0.5);
    expect(summary.queue_wait_p95_seconds).toBeLessThanOrEqual(0.005);
  });

  it('reports nothing rather than zero when nothing was served', async () => {
    const summary = await new LatencyWindow(new GatewayMetrics()).summary();
    expect(summary).toMatchObject({
      requests: 0,
      p95_seconds: null,
      ttft_p95_seconds: null,
      queue_wait_p95_seconds: null,
    });
  });
});
