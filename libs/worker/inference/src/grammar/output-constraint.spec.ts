import { constraintKey } from './output-constraint';

describe('constraintKey', () => {
  it('is the same for equal constraints whatever the key order outside properties, and differs otherwise', () => {
    const a = constraintKey({
      kind: 'json_schema',
      schema: { type: 'object', properties: { b: { type: 'string' }, a: {} } },
    });
    const b = constraintKey({
      schema: { properties: { b: { type: 'string' }, a: {} }, type: 'object' },
      kind: 'json_schema',
    });
    expect(a).toBe(b);
    // The order of properties is the order the output writes them in: it must not be shared.
    expect(
      constraintKey({
        kind: 'json_schema',
        schema: { type: 'object', properties: { a: {}, b: {} } },
      }),
    ).not.toBe(
      constraintKey({
        kind: 'json_schema',
        schema: { type: 'object', properties: { b: {}, a: {} } },
      }),
    );
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
