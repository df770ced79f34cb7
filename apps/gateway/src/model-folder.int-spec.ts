import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeEcho } from '@marquee/shared/model-maker';
import { HttpClient } from './testing/http';
import { startTestGateway, type TestGateway } from './testing/test-gateway';

describe('model registry: limits come from the model folder (PostgreSQL, Redis)', () => {
  let gw: TestGateway;
  let http: HttpClient;
  let root: string;
  let folder: string;

  const asAdmin = (method: 'POST' | 'PATCH', url: string, body: unknown) =>
    http.call(method, url, { token: gw.adminToken, body });

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'marquee-model-folder-'));
    folder = join(root, 'echo-96');
    makeEcho({ out: folder, name: 'echo-96', context: 96 });
    gw = await startTestGateway('model-folder');
    http = new HttpClient(gw.app);
  });

  afterAll(async () => {
    await gw?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("takes context_length from the folder's marquee.json when the admin leaves it out", async () => {
    const reply = await asAdmin('POST', '/admin/v1/models', {
      name: 'from-folder',
      artifact_path: folder,
    });
    expect(reply.status).toBe(201);
    expect(reply.body.context_length).toBe(96);
  });

  it('refuses a context_length that disagrees with the folder, naming the field and both values', async () => {
    const reply = await asAdmin('POST', '/admin/v1/models', {
      name: 'disagrees',
      artifact_path: folder,
      context_length: 4096,
    });
    expect(reply.status).toBe(400);
    expect(reply.body.error).toMatchObject({
      param: 'context_length',
      code: 'invalid_value',
    });
    expect(reply.body.error.message).toContain('4096');
    expect(reply.body.error.message).toContain('96');
  });

  it('refuses a task that disagrees with the folder', async () => {
    const reply = await asAdmin('POST', '/admin/v1/models', {
      name: 'wrong-task',
      artifact_path: folder,
      task: 'embedding',
    });
    expect(reply.status).toBe(400);
    expect(reply.body.error.param).toBe('task');
  });

  it('refuses a folder whose marquee.json is broken, naming artifact_path', async () => {
    const broken = join(root, 'broken');
    makeEcho({ out: broken, name: 'broken', context: 32 });
    writeFileSync(join(broken, 'marquee.json'), '{"name": "broken"');
    const reply = await asAdmin('POST', '/admin/v1/models', {
      name: 'broken',
      artifact_path: broken,
    });
    expect(reply.status).toBe(400);
    expect(reply.body.error).toMatchObject({
      param: 'artifact_path',
      code: 'invalid_model_folder',
    });
  });

  it('needs context_length where the folder is not on the gateway, and keeps the one given', async () => {
    const missing = await asAdmin('POST', '/admin/v1/models', {
      name: 'remote-only',
      artifact_path: '/models/on-the-workers-only',
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({
      param: 'context_length',
      code: 'missing_required_parameter',
    });
    const given = await asAdmin('POST', '/admin/v1/models', {
      name: 'remote-only',
      artifact_path: '/models/on-the-workers-only',
      context_length: 2048,
    });
    expect(given.status).toBe(201);
    expect(given.body.context_length).toBe(2048);
  });

  it("moving a model to a readable folder takes that folder's context_length", async () => {
    const created = await asAdmin('POST', '/admin/v1/models', {
      name: 'moves',
      artifact_path: '/models/elsewhere',
      context_length: 2048,
    });
    expect(created.status).toBe(201);
    const moved = await asAdmin(
      'PATCH',
      `/admin/v1/models/${created.body.id}`,
      {
        artifact_path: folder,
      },
    );
    expect(moved.status).toBe(200);
    expect(moved.body.context_length).toBe(96);
  });
});
