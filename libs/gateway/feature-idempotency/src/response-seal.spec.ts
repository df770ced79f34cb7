import { openBody, sealBody, sealingKey } from './response-seal';

describe('response sealing', () => {
  const body = Buffer.from('{"key":"mq_live_secret"} é');

  it('opens what it sealed with the same credential, byte for byte', () => {
    const key = sealingKey('mq_abc');
    expect(
      openBody(sealingKey('mq_abc'), sealBody(key, body)).equals(body),
    ).toBe(true);
  });

  it('stores no plaintext', () => {
    expect(
      sealBody(sealingKey('mq_abc'), body).includes('mq_live_secret'),
    ).toBe(false);
  });

  it('refuses to open with another credential', () => {
    const sealed = sealBody(sealingKey('mq_abc'), body);
    expect(() => openBody(sealingKey('mq_abd'), sealed)).toThrow();
  });
});
