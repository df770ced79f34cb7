import { HttpClient } from './testing/http';
import { startTestGateway, type TestGateway } from './testing/test-gateway';

/**
 * Runs the gateway logging as in production (pino through Nest, at `trace`, the most verbose
 * level), drives it through successes and failures with every kind of secret, and greps the
 * whole log output for each secret: none may appear, not even the part after its display prefix.
 */
describe('logs never hold a key or token (PostgreSQL, Redis)', () => {
  let gw: TestGateway;
  let http: HttpClient;
  const output: string[] = [];
  const secrets: string[] = [];
  const restore: (() => void)[] = [];

  /** Captures (and keeps off the terminal) everything the process writes while the gateway runs. */
  function capture(stream: NodeJS.WriteStream) {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: unknown) => {
      output.push(typeof chunk === 'string' ? chunk : String(chunk));
      return true;
    }) as typeof stream.write;
    restore.push(() => {
      stream.write = write;
    });
  }

  beforeAll(async () => {
    capture(process.stdout);
    capture(process.stderr);
    gw = await startTestGateway('log_secrets', { logLevel: 'trace' });
    http = new HttpClient(gw.app);
    secrets.push(gw.adminToken);
  });

  afterAll(async () => {
    await gw?.close();
    for (const undo of restore) undo();
  });

  it('logs requests, errors included, without any secret it was given or minted', async () => {
    const admin = gw.adminToken;
    const tenant = (
      await http.call('POST', '/admin/v1/tenants', {
        token: admin,
        body: { name: 'logged' },
      })
    ).body.id;
    const created = await http.call(
      'POST',
      `/admin/v1/tenants/${tenant}/keys`,
      { token: admin, body: { name: 'k' } },
    );
    const key: string = created.body.key;
    secrets.push(key);
    const rotated: string = (
      await http.call('POST', `/admin/v1/keys/${created.body.id}/rotate`, {
        token: admin,
        body: { grace_period_seconds: 60 },
      })
    ).body.key;
    secrets.push(rotated);
    const scoped: string = (
      await http.call('POST', '/admin/v1/admin-tokens', {
        token: admin,
        body: { name: 'reader', scopes: ['admin:read'] },
      })
    ).body.token;
    secrets.push(scoped);

    // Successes, refusals and failures, with the secrets where clients put them.
    await http.call('GET', '/v1/models', { token: key });
    await http.call('GET', '/v1/models', { token: rotated });
    await http.call('GET', '/v1/models/missing', { token: rotated });
    await http.call('GET', '/admin/v1/tenants', { token: scoped });
    await http.call('POST', '/admin/v1/tenants', {
      token: scoped,
      body: { name: 'refused' },
    });
    await http.call('GET', '/admin/v1/tenants', { token: key });
    await http.call('GET', '/v1/models', { token: admin });
    await http.call('GET', '/v1/models', { token: `${key}x` });
    await http.call('POST', '/v1/completions', {
      token: key,
      body: { model: 'missing', prompt: 'hi' },
    });
    await http.call('POST', '/v1/chat/completions', {
      token: rotated,
      raw: '{"model": "m", "messages": [',
    });
    await http.call('POST', '/v1/completions', {
      token: key,
      body: { model: 'missing\u0000', prompt: 'hi' },
    });
    await http.call('GET', '/nowhere', { token: admin });
    await http.call('DELETE', `/admin/v1/keys/${created.body.id}`, {
      token: admin,
    });
    await http.call('GET', '/v1/models', { token: key });

    const logs = output.join('');
    // The capture saw the gateway's request lines, so an empty log cannot pass.
    expect(logs).toContain('"msg":"request completed"');
    expect(logs.match(/"requestId":"req_/g)?.length ?? 0).toBeGreaterThan(10);
    for (const secret of secrets) {
      // The whole secret, and the part a display prefix never shows.
      expect(logs).not.toContain(secret);
      expect(logs).not.toContain(secret.slice(12));
    }
  });
});
