import {
  canonicalJson,
  credentialScope,
  idempotencyKeyProblem,
  recordKey,
  requestFingerprint,
} from './idempotency-key';

describe('idempotencyKeyProblem', () => {
  it('accepts a UUID and a 255-character key', () => {
    expect(
      idempotencyKeyProblem('0d6b8f7e-6f0e-4f55-9f3f-6d1c2a8b9e10'),
    ).toBeNull();
    expect(idempotencyKeyProblem('k'.repeat(255))).toBeNull();
  });

  it('refuses a 256-character key, naming the header and the limit', () => {
    expect(idempotencyKeyProblem('k'.repeat(256))).toMatch(
      /Idempotency-Key.*256.*at most 255/,
    );
  });

  it('refuses control characters (tab, escape, DEL) and an empty key', () => {
    for (const key of ['a\tb', 'a\u001bb', 'a\u007fb'])
      expect(idempotencyKeyProblem(key)).toMatch(
        /Idempotency-Key.*control character/,
      );
    expect(idempotencyKeyProblem('')).toMatch(/Idempotency-Key.*empty/);
  });
});

describe('credentialScope', () => {
  it('hashes the bearer token: same token, same scope, whatever the scheme spelling', () => {
    expect(credentialScope('Bearer mq_abc')).toBe(
      credentialScope('bearer  mq_abc'),
    );
    expect(credentialScope('Bearer mq_abc')).not.toBe(
      credentialScope('Bearer mq_abd'),
    );
  });

  it('never contains the token', () => {
    const token = 'mq_supersecret123';
    expect(credentialScope(`Bearer ${token}`)).not.toContain(token);
    expect(recordKey(credentialScope(`Bearer ${token}`), 'k1')).not.toContain(
      token,
    );
  });

  it('gives two credentials different records for the same key', () => {
    expect(recordKey(credentialScope('Bearer a'), 'same')).not.toBe(
      recordKey(credentialScope('Bearer b'), 'same'),
    );
    expect(recordKey(credentialScope('Bearer a'), 'same')).toMatch(
      /^mq:idem:[0-9a-f]{64}$/,
    );
  });
});

describe('canonicalJson', () => {
  it('sorts object keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,1]},"b":1}',
    );
  });

  it('leaves out undefined fields as JSON.stringify does', () => {
    expect(canonicalJson({ a: undefined, b: 'x' })).toBe('{"b":"x"}');
  });
});

describe('requestFingerprint', () => {
  const url = '/v1/chat/completions';
  const body = {
    model: 'm',
    messages: [{ role: 'user', content: 'hi' }],
    n: 1,
  };

  it('is the same for the same body with keys in another order', () => {
    const reordered = {
      n: 1,
      messages: [{ content: 'hi', role: 'user' }],
      model: 'm',
    };
    expect(requestFingerprint('POST', url, reordered)).toBe(
      requestFingerprint('POST', url, body),
    );
  });

  it('differs when a value, the array order, the URL or the method differs', () => {
    const base = requestFingerprint('POST', url, body);
    expect(requestFingerprint('POST', url, { ...body, n: 2 })).not.toBe(base);
    expect(
      requestFingerprint('POST', url, {
        ...body,
        messages: [...body.messages, { role: 'user', content: 'again' }],
      }),
    ).not.toBe(base);
    expect(requestFingerprint('POST', '/v1/completions', body)).not.toBe(base);
    expect(requestFingerprint('PUT', url, body)).not.toBe(base);
  });

  it('compares bodies Fastify left as bytes byte for byte', () => {
    expect(requestFingerprint('POST', url, Buffer.from('ab'))).toBe(
      requestFingerprint('POST', url, Buffer.from('ab')),
    );
    expect(requestFingerprint('POST', url, Buffer.from('ab'))).not.toBe(
      requestFingerprint('POST', url, Buffer.from('ba')),
    );
  });
});
