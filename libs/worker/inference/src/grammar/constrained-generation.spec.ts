import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCausalLm, type MadeModel } from '@marquee/shared/model-maker';
import { PromptTokenizer } from '@marquee/shared/tokenization';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { SeededRandom } from '../seeded-random';
import { GrammarEngine } from './grammar-engine';
import type { OutputConstraint, ToolSpec } from './output-constraint';

// Random logits stand in for a random-weight model: every output must still satisfy the
// constraint, be valid UTF-8 and be compact JSON.

/** Logits are wider than the 512-token tokenizer, as a padded `vocab_size` would be. */
const LOGITS = 520;

const filmSchema = {
  type: 'object',
  properties: {
    title: { type: 'string', maxLength: 12 },
    year: { type: 'integer', minimum: 1900, maximum: 2030 },
    rating: { type: 'integer', minimum: -5 },
    genre: { enum: ['thriller', 'comedy', 'drama'] },
    cast: {
      type: 'array',
      minItems: 1,
      maxItems: 3,
      items: {
        type: 'object',
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 8 },
          lead: { type: 'boolean' },
        },
        required: ['name', 'lead'],
      },
    },
    studio: { anyOf: [{ type: 'string', maxLength: 6 }, { type: 'null' }] },
    released: { type: 'string', format: 'date' },
    id: { type: 'string', format: 'uuid' },
    code: { type: 'string', pattern: '^[A-Z]{3}-[0-9]{2}$' },
    pair: {
      type: 'array',
      prefixItems: [
        { type: 'integer', minimum: 0, maximum: 9 },
        { type: 'boolean' },
      ],
      items: false,
    },
  },
  required: ['title', 'year', 'genre', 'cast', 'code'],
};

const weather: ToolSpec = {
  name: 'get_weather',
  parameters: {
    type: 'object',
    properties: {
      city: { type: 'string', maxLength: 12 },
      unit: { type: 'string', enum: ['c', 'f'] },
    },
    required: ['city', 'unit'],
  },
};
const booking: ToolSpec = {
  name: 'book_room',
  parameters: {
    type: 'object',
    properties: {
      nights: { type: 'integer', minimum: 1, maximum: 9 },
      names: {
        type: 'array',
        items: { type: 'string', maxLength: 8 },
        maxItems: 2,
      },
    },
    required: ['nights', 'names'],
  },
};

describe('constrained generation from random logits', () => {
  let root: string;
  let made: MadeModel;
  let engine: GrammarEngine;
  let tokenizer: PromptTokenizer;
  let stops: Set<number>;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mq-grammar-'));
    made = makeCausalLm({
      out: join(root, 'model'),
      layers: 1,
      hidden: 8,
      heads: 1,
      vocab: 512,
      context: 16,
    });
    stops = new Set([made.tokenIds.endOfText, made.tokenIds.imEnd]);
    engine = await GrammarEngine.fromModelFolder(made.dir, {
      vocabSize: LOGITS,
      stopTokenIds: [...stops],
    });
    tokenizer = await PromptTokenizer.load(made.dir);
  });

  afterAll(() => {
    engine?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  /**
   * Decodes like the engine: prepare while the "forward pass" fills the logits, apply, pick
   * (sampled from softmax or greedy), accept, until a stop token or `budget` tokens.
   */
  async function generate(
    constraint: OutputConstraint,
    seed: number,
    options: { greedy?: boolean; budget?: number; prefix?: string } = {},
  ): Promise<{ text: string; finished: boolean; tokens: number }> {
    const { greedy = false, budget = 600 } = options;
    const matcher = await engine.matcher(await engine.compile(constraint));
    const rng = new SeededRandom(seed);
    const ids: number[] = [];
    try {
      if (options.prefix)
        for (const id of tokenizer.encode({
          kind: 'text',
          text: options.prefix,
        })) {
          await matcher.prepare();
          matcher.accept(id);
          ids.push(id);
        }
      const logits = new Float32Array(LOGITS);
      while (ids.length < budget && !matcher.terminated) {
        const preparing = matcher.prepare();
        for (let i = 0; i < LOGITS; i++) logits[i] = rng.next() * 8;
        await preparing;
        matcher.apply(logits);
        const token = greedy ? argmax(logits) : sample(logits, rng);
        matcher.accept(token);
        ids.push(token);
      }
    } finally {
      matcher.dispose();
    }
    const finished = matcher.terminated;
    if (finished) expect(stops.has(ids[ids.length - 1])).toBe(true);
    const bytes = ids
      .filter((id) => !stops.has(id))
      .flatMap((id) => [...tokenizer.tokenBytes(id)]);
    // Throws on invalid UTF-8.
    const text = new TextDecoder('utf-8', { fatal: true }).decode(
      Uint8Array.from(bytes),
    );
    return { text, finished, tokens: ids.length };
  }

  function expectValid(schema: object, text: string): unknown {
    const value = JSON.parse(text) as unknown;
    const validate = ajv.compile(schema);
    if (!validate(value))
      throw new Error(`${text}\n${ajv.errorsText(validate.errors)}`);
    expect(isCompact(text)).toBe(true);
    return value;
  }

  it.each([1, 2, 3, 4, 5, 6])(
    'writes compact JSON valid against a nested schema within 400 tokens (sampled, seed %i)',
    async (seed) => {
      const out = await generate(
        { kind: 'json_schema', schema: filmSchema },
        seed,
        { budget: 400 },
      );
      expect(out.finished).toBe(true);
      expectValid(filmSchema, out.text);
    },
  );

  it.each([11, 12, 13])(
    'writes valid JSON greedily from random logits (seed %i)',
    async (seed) => {
      const out = await generate(
        { kind: 'json_schema', schema: filmSchema },
        seed,
        { greedy: true, budget: 400 },
      );
      expect(out.finished).toBe(true);
      expectValid(filmSchema, out.text);
    },
  );

  it('keeps strings within maxLength in characters and free of control characters', async () => {
    const schema = {
      type: 'array',
      items: { type: 'string', minLength: 2, maxLength: 5 },
      minItems: 8,
      maxItems: 8,
    };
    for (const seed of [21, 22, 23]) {
      const out = await generate({ kind: 'json_schema', schema }, seed);
      expect(out.finished).toBe(true);
      expectValid(schema, out.text);
    }
  });

  it('writes an email address for format "email" and a bounded integer for a one-sided minimum', async () => {
    const schema = {
      type: 'object',
      properties: {
        contact: { type: 'string', format: 'email' },
        count: { type: 'integer', exclusiveMinimum: 40 },
      },
      required: ['contact', 'count'],
    };
    for (const seed of [31, 32]) {
      const out = await generate({ kind: 'json_schema', schema }, seed, {
        budget: 2000,
      });
      expect(out.finished).toBe(true);
      expectValid(schema, out.text);
    }
  });

  it('writes a compact JSON object for json_object', async () => {
    for (const seed of [41, 42, 43, 44]) {
      const out = await generate({ kind: 'json_object' }, seed, {
        budget: 3000,
      });
      expect(out.finished).toBe(true);
      const value = expectValid({ type: 'object' }, out.text);
      expect(Array.isArray(value)).toBe(false);
    }
  });

  it('writes only parallel tool calls, each well-formed with valid arguments, for mode required', async () => {
    const tools = [weather, booking];
    for (const seed of [51, 52, 53]) {
      const out = await generate(
        { kind: 'tool_calls', mode: 'required', tools, parallel: true },
        seed,
        { budget: 800 },
      );
      expect(out.finished).toBe(true);
      const calls = parseCalls(out.text, tools);
      expect(calls.length).toBeGreaterThanOrEqual(1);
      expect(out.text).toBe(calls.map((c) => c.raw).join('\n'));
    }
  });

  it('writes exactly one call without parallel, and that tool for a named function', async () => {
    for (const [tools, seed] of [
      [[weather, booking], 61],
      [[booking], 62],
      [[weather], 63],
    ] as const) {
      const out = await generate(
        {
          kind: 'tool_calls',
          mode: 'required',
          tools: [...tools],
          parallel: false,
        },
        seed,
      );
      expect(out.finished).toBe(true);
      const calls = parseCalls(out.text, [...tools]);
      expect(calls).toHaveLength(1);
      expect(out.text).toBe(calls[0].raw);
      if (tools.length === 1) expect(calls[0].name).toBe(tools[0].name);
    }
  });

  it('writes free text or well-formed calls for mode auto', async () => {
    const tools = [weather, booking];
    for (const seed of [71, 72, 73, 74]) {
      const out = await generate(
        { kind: 'tool_calls', mode: 'auto', tools, parallel: true },
        seed,
        { budget: 1500 },
      );
      expect(out.finished).toBe(true);
      parseCalls(out.text, tools);
    }
  });

  it('completes a call once the text reaches <tool_call> in mode auto', async () => {
    const tools = [weather, booking];
    for (const [parallel, seed] of [
      [false, 81],
      [true, 82],
    ] as const) {
      const out = await generate(
        { kind: 'tool_calls', mode: 'auto', tools, parallel },
        seed,
        { prefix: 'Checking.<tool_call>', budget: 1500 },
      );
      expect(out.finished).toBe(true);
      const calls = parseCalls(out.text, tools);
      expect(calls.length).toBeGreaterThanOrEqual(1);
      expect(out.text.startsWith(`Checking.${calls[0].raw}`)).toBe(true);
      if (!parallel) expect(out.text).toBe(`Checking.${calls[0].raw}`);
    }
  });

  /**
   * Every `<tool_call>` in `text` must open a call in exactly the Hermes format whose compact
   * arguments validate against the tool's parameters.
   */
  function parseCalls(text: string, tools: ToolSpec[]) {
    const calls: { name: string; raw: string }[] = [];
    const prefix = /^\{"name": ("(?:[^"\\]|\\.)*"), "arguments": /;
    for (const [i, part] of text.split('<tool_call>').entries()) {
      if (i === 0) continue;
      const end = part.indexOf('\n</tool_call>');
      expect(part.startsWith('\n')).toBe(true);
      expect(end).toBeGreaterThan(0);
      const inner = part.slice(1, end);
      const head = prefix.exec(inner);
      if (!head) throw new Error(`malformed call: ${JSON.stringify(inner)}`);
      const name = JSON.parse(head[1]) as string;
      const tool = tools.find((t) => t.name === name);
      if (!tool) throw new Error(`unknown tool ${name}`);
      expect(inner.endsWith('}')).toBe(true);
      expectValid(tool.parameters, inner.slice(head[0].length, -1));
      calls.push({
        name,
        raw: `<tool_call>${part.slice(0, end)}\n</tool_call>`,
      });
    }
    return calls;
  }
});

function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++)
    if (logits[i] > logits[best]) best = i;
  return best;
}

function sample(logits: Float32Array, rng: SeededRandom): number {
  const max = logits[argmax(logits)];
  let total = 0;
  for (const l of logits) total += Math.exp(l - max);
  let r = rng.next() * total;
  for (let i = 0; i < logits.length; i++) {
    r -= Math.exp(logits[i] - max);
    if (r <= 0 && logits[i] > -Infinity) return i;
  }
  return argmax(logits);
}

/** No whitespace outside strings. */
function isCompact(json: string): boolean {
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (/\s/.test(c)) return false;
  }
  return true;
}
