import { redactSecrets } from './redact-secrets';

describe('redactSecrets', () => {
  it('drops secret-named fields and key-shaped strings at any depth, keeping the rest', () => {
    expect(
      redactSecrets({
        params: { id: 'abc' },
        body: {
          name: 'render farm',
          key: 'anything',
          nested: [{ token: 'x', note: 'mq_AbCdEf123' }, 'mqa_secret'],
          amount: 12n,
        },
      }),
    ).toEqual({
      params: { id: 'abc' },
      body: {
        name: 'render farm',
        key: '[redacted]',
        nested: [{ token: '[redacted]', note: '[redacted]' }, '[redacted]'],
        amount: '12',
      },
    });
  });
});
