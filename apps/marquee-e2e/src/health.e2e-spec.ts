import { e2eStack } from './support/stack';

describe('health', () => {
  it('reports ready with the database, Redis and a worker serving the model', async () => {
    const { origin, model } = e2eStack();
    const response = await fetch(`${origin}/health/ready`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      checks: { database: string; redis: string; models: string[] };
    };
    expect(body.checks.database).toBe('up');
    expect(body.checks.redis).toBe('up');
    expect(body.checks.models).toContain(model);
  });
});
