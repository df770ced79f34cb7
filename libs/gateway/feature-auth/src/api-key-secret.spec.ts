import { bearerToken, hashApiKey, mintApiKey } from './api-key-secret';

describe('API key secrets', () => {
  it('mints distinct mq_ keys whose stored form is the SHA-256 of the key', () => {
    const a = mintApiKey();
    const b = mintApiKey();
    expect(a.key).toMatch(/^mq_[A-Za-z0-9_-]{32}$/);
    expect(a.key).not.toBe(b.key);
    expect(a.hash).toBe(hashApiKey(a.key));
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(a.hash).not.toContain(a.key.slice(3));
  });

  it('keeps only a short display prefix of the secret', () => {
    const { key, prefix } = mintApiKey();
    expect(prefix).toBe(key.slice(0, 11));
    // 24 secret characters (144 bits) stay hidden.
    expect(key.length - prefix.length).toBeGreaterThanOrEqual(24);
  });

  it('reads the bearer token of an Authorization header', () => {
    expect(bearerToken('Bearer mq_abc')).toBe('mq_abc');
    expect(bearerToken('bearer  mq_abc ')).toBe('mq_abc');
    expect(bearerToken('Basic Zm9vOmJhcg==')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });
});
