import { constraintKey } from './output-constraint';

describe('constraintKey', () => {
  it('is the same for equal constraints whatever the key order, and differs otherwise', () => {
    const a = constraintKey({
      kind: 'json_schema',
      schema: { type: 'object', properties: { b: { type: 'string' }, a: {} } },
    });
    const b = constraintKey({
      schema: { properties: { a: {}, b: { type: 'string' } }, type: 'object' },
      kind: 'json_schema',
    });
    expect(a).toBe(b);
    expect(
      constraintKey({
        kind: 'tool_calls',
        mode: 'auto',
        parallel: true,
        tools: [],
      }),
    ).not.toBe(
      constraintKey({
        kind: 'tool_calls',
        mode: 'auto',
        parallel: false,
        tools: [],
      }),
    );
  });
});
