import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCausalLm, type MadeModel } from '@marquee/shared/model-maker';
import { PromptTokenizer } from '@marquee/shared/tokenization';
import type { ConstraintMatcher } from './constraint-matcher';
import { GrammarEngine } from './grammar-engine';
import { GrammarError } from './grammar-error';
import type { OutputConstraint } from './output-constraint';

const LOGITS = 520; // wider than the 512-token tokenizer

const schema = {
  type: 'object',
  properties: {
    name: { type: 'string', maxLength: 8 },
    size: { type: 'integer', minimum: 1, maximum: 9 },
  },
  required: ['name', 'size'],
};
const jsonSchema = (s: object): OutputConstraint => ({
  kind: 'json_schema',
  schema: s as Record<string, unknown>,
});

describe('GrammarEngine', () => {
  let root: string;
  let made: MadeModel;
  let engine: GrammarEngine;
  let tokenizer: PromptTokenizer;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mq-grammar-engine-'));
    made = makeCausalLm({
      out: join(root, 'model'),
      layers: 1,
      hidden: 8,
      heads: 1,
      vocab: 512,
      context: 16,
    });
    engine = await GrammarEngine.fromModelFolder(made.dir, {
      vocabSize: LOGITS,
      stopTokenIds: [made.tokenIds.endOfText, made.tokenIds.imEnd],
    });
    tokenizer = await PromptTokenizer.load(made.dir);
  });

  afterAll(() => {
    engine?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  const ids = (text: string) => tokenizer.encode({ kind: 'text', text });

  async function feed(matcher: ConstraintMatcher, text: string) {
    for (const id of ids(text)) {
      await matcher.prepare();
      matcher.accept(id);
    }
  }

  async function allowedAfter(
    matcher: ConstraintMatcher,
  ): Promise<Float32Array> {
    await matcher.prepare();
    const logits = new Float32Array(LOGITS);
    matcher.apply(logits);
    return logits;
  }

  describe('masking', () => {
    it('never allows <|im_start|> inside a JSON string, though XGrammar reads it as text', async () => {
      const matcher = await engine.matcher(
        await engine.compile(jsonSchema({ type: 'string' })),
      );
      await feed(matcher, '"ab');
      const logits = await allowedAfter(matcher);
      expect(logits[made.tokenIds.imStart]).toBe(-Infinity);
      expect(logits[ids('c')[0]]).toBe(0);
      // The string is open: no stop token yet.
      expect(logits[made.tokenIds.endOfText]).toBe(-Infinity);
      matcher.dispose();
    });

    it('allows only stop tokens once the grammar is complete, and ends on one', async () => {
      const matcher = await engine.matcher(
        await engine.compile(jsonSchema(schema)),
      );
      await feed(matcher, '{"name":"x","size":4}');
      const logits = await allowedAfter(matcher);
      const finite = [...logits.keys()].filter((id) => logits[id] > -Infinity);
      expect(finite.sort()).toEqual(
        [made.tokenIds.imEnd, made.tokenIds.endOfText].sort(),
      );
      expect(matcher.terminated).toBe(false);
      matcher.accept(made.tokenIds.imEnd);
      expect(matcher.terminated).toBe(true);
      await expect(matcher.prepare()).rejects.toThrow(/terminated/);
      matcher.dispose();
    });

    it('forbids ids past the tokenizer and enforces integer bounds', async () => {
      const matcher = await engine.matcher(
        await engine.compile(jsonSchema(schema)),
      );
      await feed(matcher, '{"name":"x","size":');
      const logits = await allowedAfter(matcher);
      for (let id = 512; id < LOGITS; id++) expect(logits[id]).toBe(-Infinity);
      const digits = [...'0123456789'].filter((d) => logits[ids(d)[0]] === 0);
      expect(digits).toEqual([...'123456789']);
      matcher.dispose();
    });

    it('throws when accepting a token the mask forbids', async () => {
      const matcher = await engine.matcher(
        await engine.compile({ kind: 'json_object' }),
      );
      await matcher.prepare();
      expect(() => matcher.accept(ids('x')[0])).toThrow(/not allowed/);
      expect(() => matcher.accept(made.tokenIds.imStart)).toThrow(
        /not allowed/,
      );
      matcher.accept(ids('{')[0]);
      matcher.dispose();
    });

    it('writes tool calls with one space after the envelope colons and compact arguments', async () => {
      const constraint: OutputConstraint = {
        kind: 'tool_calls',
        mode: 'required',
        tools: [{ name: 'f', parameters: schema }],
        parallel: false,
      };
      const matcher = await engine.matcher(await engine.compile(constraint));
      await feed(
        matcher,
        '<tool_call>\n{"name": "f", "arguments": {"name":"a"',
      );
      await matcher.prepare();
      expect(() => matcher.accept(ids(' ')[0])).toThrow(/not allowed/);
      await feed(matcher, ',"size":2}}\n</tool_call>');
      const logits = await allowedAfter(matcher);
      expect(logits[made.tokenIds.endOfText]).toBe(0);
      matcher.dispose();
    });
  });

  describe('compile', () => {
    it('returns the same compiled constraint for equal constraints, whatever their key order', async () => {
      const before = engine.cacheStats();
      const a = await engine.compile(
        jsonSchema({ type: 'array', maxItems: 2 }),
      );
      const b = await engine.compile(
        jsonSchema({ maxItems: 2, type: 'array' }),
      );
      expect(b).toBe(a);
      const after = engine.cacheStats();
      expect(after.misses - before.misses).toBe(1);
      expect(after.hits - before.hits).toBe(1);
    });

    it('shares one compilation between concurrent calls', async () => {
      const before = engine.cacheStats();
      const constraint = jsonSchema({ type: 'array', maxItems: 3 });
      const [a, b] = await Promise.all([
        engine.compile(constraint),
        engine.compile(constraint),
      ]);
      expect(b).toBe(a);
      expect(engine.cacheStats().misses - before.misses).toBe(1);
    });

    it('rejects a schema XGrammar cannot compile with a GrammarError that says why', async () => {
      const error = await engine
        .compile(jsonSchema({ type: 'nonsense' }))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GrammarError);
      expect(error).toMatchObject({
        param: 'response_format',
        code: 'invalid_constraint',
        message: 'Unsupported type "nonsense"',
      });
      await expect(
        engine.compile(jsonSchema({ type: 'string', pattern: '(a' })),
      ).rejects.toThrow(/Regex parsing error.*parenthesis is not closed/);
      await expect(
        engine.compile({ kind: 'json_schema', schema: false }),
      ).rejects.toThrow(/cannot accept any value/);
    });

    it('rejects what XGrammar would silently ignore, naming the place in the schema', async () => {
      await expect(
        engine.compile(
          jsonSchema({
            type: 'object',
            properties: { a: { not: { type: 'null' } } },
          }),
        ),
      ).rejects.toThrow(
        '"not" is not supported (at /properties/a in the schema)',
      );
      await expect(
        engine.compile(jsonSchema({ type: 'number', minimum: 0, maximum: 1 })),
      ).rejects.toThrow(/only with "type": "integer"/);
      await expect(
        engine.compile(jsonSchema({ maxLength: 3 })),
      ).rejects.toThrow('"maxLength" needs "type": "string"');
    });

    it('names the tool whose parameters are at fault', async () => {
      await expect(
        engine.compile({
          kind: 'tool_calls',
          mode: 'auto',
          parallel: true,
          tools: [
            { name: 'ok', parameters: schema },
            {
              name: 'broken',
              parameters: {
                type: 'object',
                properties: { a: { type: 'nope' } },
              },
            },
          ],
        }),
      ).rejects.toMatchObject({
        name: 'GrammarError',
        param: 'tools',
        message: 'tool "broken": Unsupported type "nope"',
      });
    });

    it('keeps working after many rejected schemas (each abort costs XGrammar its instance)', async () => {
      for (let i = 0; i < 40; i++)
        await expect(
          engine.compile(
            jsonSchema({ type: 'string', pattern: `(${'x'.repeat(i)}` }),
          ),
        ).rejects.toBeInstanceOf(GrammarError);
      const matcher = await engine.matcher(
        await engine.compile(
          jsonSchema({ type: 'string', pattern: '^[a-c]{2}$' }),
        ),
      );
      await feed(matcher, '"ab"');
      matcher.accept(made.tokenIds.endOfText);
      expect(matcher.terminated).toBe(true);
      matcher.dispose();
    });

    it('evicts the least recently used constraint, and a matcher for it still works', async () => {
      const small = await GrammarEngine.fromModelFolder(made.dir, {
        vocabSize: LOGITS,
        stopTokenIds: [made.tokenIds.endOfText],
        cacheSize: 2,
      });
      const first = await small.compile(jsonSchema({ type: 'boolean' }));
      await small.compile(jsonSchema({ type: 'null' }));
      await small.compile(
        jsonSchema({ type: 'integer', minimum: 0, maximum: 3 }),
      );
      expect(first.disposed).toBe(true);
      expect(small.cacheStats().size).toBe(2);
      const matcher = await small.matcher(first);
      await feed(matcher, 'true');
      matcher.accept(made.tokenIds.endOfText);
      expect(matcher.terminated).toBe(true);
      matcher.dispose();
      small.dispose();
    });
  });

  describe('lifetimes', () => {
    it('disposes matchers and engines idempotently; a matcher outlives its engine', async () => {
      const other = await GrammarEngine.fromModelFolder(made.dir, {
        vocabSize: 512,
        stopTokenIds: [made.tokenIds.endOfText],
      });
      const matcher = await other.matcher(
        await other.compile({ kind: 'json_object' }),
      );
      other.dispose();
      other.dispose();
      await expect(other.compile({ kind: 'json_object' })).rejects.toThrow(
        /disposed/,
      );
      await feed(matcher, '{}');
      matcher.accept(made.tokenIds.endOfText);
      expect(matcher.terminated).toBe(true);
      matcher.dispose();
      matcher.dispose();
      expect(() => matcher.apply(new Float32Array(512))).toThrow(/disposed/);
    });

    it('frees a matcher disposed while its mask is computing', async () => {
      const matcher = await engine.matcher(
        await engine.compile({ kind: 'json_object' }),
      );
      const preparing = matcher.prepare();
      matcher.dispose();
      await expect(preparing).resolves.toBeUndefined();
    });

    it('does not grow WASM memory over thousands of matchers', async () => {
      const compiled = await engine.compile(jsonSchema(schema));
      const cycle = async (n: number) => {
        for (let i = 0; i < n; i++) {
          const matcher = await engine.matcher(compiled);
          await feed(matcher, '{"name":"');
          matcher.dispose();
        }
      };
      await cycle(200);
      const heap = engine.heapBytes();
      expect(heap).toBeGreaterThan(0);
      await cycle(3000);
      expect(engine.heapBytes()).toBe(heap);
    });
  });

  it('refuses options a constraint could not end with', async () => {
    await expect(
      GrammarEngine.fromModelFolder(made.dir, {
        vocabSize: 512,
        stopTokenIds: [],
      }),
    ).rejects.toThrow(/stopTokenIds must not be empty/);
    await expect(
      GrammarEngine.fromModelFolder(made.dir, {
        vocabSize: 500,
        stopTokenIds: [1],
      }),
    ).rejects.toThrow(/more than vocabSize/);
  });
});
