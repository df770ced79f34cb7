import type { TokenLogprobMessage } from '@marquee/contracts/proto';
import { chatFormat, completionFormat, usageOf } from './response-format';

const lp = (token: string, logprob: number): TokenLogprobMessage => ({
  token,
  logprob,
  bytes: new TextEncoder().encode(token),
  topLogprobs: [
    { token, logprob, bytes: new TextEncoder().encode(token) },
    { token: 'x', logprob: -5, bytes: Uint8Array.of(120) },
  ],
});
const envelope = { id: 'id', created: 1, model: 'm' };

describe('response formats with logprobs', () => {
  it('shapes chat logprobs as content entries with bytes and top_logprobs', () => {
    const body = chatFormat({ ...envelope, logprobs: true }).body(
      [
        {
          index: 0,
          text: 'Hi!',
          finishReason: 'stop',
          logprobs: [lp('Hi', -0.5), lp('!', -1)],
        },
      ],
      usageOf(1, 2),
    ) as { choices: { logprobs: unknown }[] };
    expect(body.choices[0].logprobs).toEqual({
      content: [
        {
          token: 'Hi',
          logprob: -0.5,
          bytes: [72, 105],
          top_logprobs: [
            { token: 'Hi', logprob: -0.5, bytes: [72, 105] },
            { token: 'x', logprob: -5, bytes: [120] },
          ],
        },
        expect.objectContaining({ token: '!', logprob: -1, bytes: [33] }),
      ],
      refusal: null,
    });
    const chunk = chatFormat({ ...envelope, logprobs: true }).textChunk(
      0,
      'Hi',
      [lp('Hi', -0.5)],
    ) as {
      choices: { logprobs: { content: unknown[] } }[];
    };
    expect(chunk.choices[0].logprobs.content).toHaveLength(1);
    const plain = chatFormat(envelope).textChunk(0, 'Hi') as {
      choices: { logprobs: unknown }[];
    };
    expect(plain.choices[0].logprobs).toBeNull();
  });

  it('shapes completion logprobs as parallel arrays with text offsets continuing across chunks', () => {
    const format = completionFormat({ ...envelope, logprobs: true });
    const first = format.textChunk(0, 'Hi', [lp('Hi', -0.5)]) as {
      choices: { logprobs: unknown }[];
    };
    const second = format.textChunk(0, ' there', [lp(' there', -2)]) as {
      choices: { logprobs: unknown }[];
    };
    expect(first.choices[0].logprobs).toEqual({
      tokens: ['Hi'],
      token_logprobs: [-0.5],
      top_logprobs: [{ Hi: -0.5, x: -5 }],
      text_offset: [0],
    });
    expect(second.choices[0].logprobs).toMatchObject({
      tokens: [' there'],
      text_offset: [2],
    });
    const body = completionFormat({ ...envelope, logprobs: true }).body(
      [
        {
          index: 0,
          text: 'Hi there',
          finishReason: 'length',
          logprobs: [lp('Hi', -0.5), lp(' there', -2)],
        },
      ],
      usageOf(1, 2),
    ) as { choices: { logprobs: { text_offset: number[] } }[] };
    expect(body.choices[0].logprobs.text_offset).toEqual([0, 2]);
  });
});
