import { scrubbingDestination, scrubSecrets } from './secret-scrubber';

describe('scrubSecrets', () => {
  it('masks tenant keys and admin tokens anywhere in a line', () => {
    const line = JSON.stringify({
      msg: 'bad key mq_AbCdEf0123456789xyz in body',
      err: 'token mqa_e2e_Zx-9_8yT7 rejected',
    });
    const scrubbed = scrubSecrets(line);
    expect(scrubbed).not.toContain('AbCdEf0123456789xyz');
    expect(scrubbed).not.toContain('Zx-9_8yT7');
    expect(scrubbed).toContain('mq_[redacted]');
    expect(scrubbed).toContain('mqa_[redacted]');
  });

  it('leaves other text alone, including the documented "mq_..." placeholder', () => {
    const text =
      'Pass it as "Authorization: Bearer mq_..." (request req_abc123)';
    expect(scrubSecrets(text)).toBe(text);
  });

  it('scrubs what goes through the pino destination', () => {
    const written: string[] = [];
    const destination = scrubbingDestination({
      write: (chunk: string) => written.push(chunk),
    });
    destination.write('{"msg":"mq_SECRETSECRET"}\n');
    expect(written).toEqual(['{"msg":"mq_[redacted]"}\n']);
  });
});
