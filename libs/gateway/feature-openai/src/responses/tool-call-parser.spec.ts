import { type ToolCallEvent, ToolCallParser } from './tool-call-parser';
import { splitToolCalls } from './response-format';

const call = (name: string, args: string) =>
  `<tool_call>\n{"name": "${name}", "arguments": ${args}}\n</tool_call>`;

/** Feeds `text` in pieces of `size` characters and folds the events per call. */
function parse(text: string, size: number) {
  const parser = new ToolCallParser();
  const events: ToolCallEvent[] = [];
  for (let i = 0; i < text.length; i += size)
    events.push(...parser.push(text.slice(i, i + size)));
  events.push(...parser.flush());
  let content = '';
  const calls: { name: string; args: string }[] = [];
  for (const e of events) {
    if (e.type === 'content') content += e.text;
    else if (e.type === 'call') calls[e.index] = { name: e.name, args: '' };
    else calls[e.index].args += e.text;
  }
  return { content, calls, count: parser.callCount };
}

describe('ToolCallParser', () => {
  const args = '{"city":"Paris","tags":["a}","b\\"]"],"n":{"x":[1,2]}}';

  it.each([1, 2, 3, 7, 1000])(
    'reads calls and their arguments whatever the chunking (%i chars)',
    (size) => {
      const text = `${call('get_weather', args)}\n${call('lookup', '{}')}`;
      expect(parse(text, size)).toEqual({
        content: '',
        calls: [
          { name: 'get_weather', args },
          { name: 'lookup', args: '{}' },
        ],
        count: 2,
      });
    },
  );

  it('keeps text before a call and text that only looks like the start of one', () => {
    const text = `Let me check. <tool x> <tool_c ${call('f', '{"a":1}')}`;
    for (const size of [1, 4, 100])
      expect(parse(text, size)).toEqual({
        content: 'Let me check. <tool x> <tool_c ',
        calls: [{ name: 'f', args: '{"a":1}' }],
        count: 1,
      });
  });

  it.each(['<tool_call>\n{"oops": 1}', '<tool_call>\n{"name": "get_w'])(
    'gives back a broken or cut-off call as content: %j',
    (text) => {
      expect(parse(text, 3)).toEqual({ content: text, calls: [], count: 0 });
    },
  );

  it('streams argument fragments as they arrive', () => {
    const parser = new ToolCallParser();
    expect(parser.push('<tool_call>\n{"name": "f", "argu')).toEqual([]);
    expect(parser.push('ments": {"q":"ab')).toEqual([
      { type: 'call', index: 0, name: 'f' },
      { type: 'arguments', index: 0, text: '{"q":"ab' },
    ]);
    expect(parser.push('c"}}\n</tool_call>')).toEqual([
      { type: 'arguments', index: 0, text: 'c"}' },
    ]);
    expect(parser.flush()).toEqual([]);
    expect(parser.callCount).toBe(1);
  });
  it('counts a call whose end was cut off, and gives the next call the next index', () => {
    const cut = '<tool_call>\n{"name": "f", "arguments": {"a":1}}\n</tool';
    expect(parse(cut, 5)).toEqual({
      // The envelope's cut-off end is text again.
      content: '}\n</tool',
      calls: [{ name: 'f', args: '{"a":1}' }],
      count: 1,
    });
    expect(parse(`${cut}\n${call('g', '{}')}`, 4).calls).toEqual([
      { name: 'f', args: '{"a":1}' },
      { name: 'g', args: '{}' },
    ]);
  });
});

describe('splitToolCalls', () => {
  it('gives null content beside calls, and ids in OpenAI shape', () => {
    const { content, calls } = splitToolCalls(call('f', '{"a":1}'));
    expect(content).toBeNull();
    expect(calls).toEqual([
      {
        id: expect.stringMatching(/^call_[A-Za-z0-9_-]{24}$/),
        type: 'function',
        function: { name: 'f', arguments: '{"a":1}' },
      },
    ]);
  });

  it('keeps plain text as content', () => {
    expect(splitToolCalls('no calls here')).toEqual({
      content: 'no calls here',
      calls: [],
    });
  });
});
