import OpenAI from 'openai';
import { openai } from './support/clients';
import { rejectionOf } from './support/errors';
import { e2eStack } from './support/stack';

const client = openai();
const model = `${e2eStack().model}-embed`;
const norm = (v: number[]) => Math.hypot(...v);

describe('POST /v1/embeddings', () => {
  it('embeds a batch of strings as unit vectors, decoding the base64 the client asks for by default', async () => {
    const response = await client.embeddings.create({
      model,
      input: ['A heist film set in Lisbon', 'A monster movie'],
    });

    expect(response.object).toBe('list');
    expect(response.model).toBe(model);
    expect(response.data.map((d) => d.index)).toEqual([0, 1]);
    for (const d of response.data) {
      expect(d.object).toBe('embedding');
      expect(d.embedding).toHaveLength(64);
      expect(norm(d.embedding)).toBeCloseTo(1, 5);
    }
    expect(response.data[0].embedding).not.toEqual(response.data[1].embedding);
    expect(response.usage.prompt_tokens).toBeGreaterThan(0);
    expect(response.usage.total_tokens).toBe(response.usage.prompt_tokens);
  });

  it('gives the same vector as float and as base64, and for a string alone or in a batch', async () => {
    const text = 'Two rival studios race to finish the same film';
    const asFloat = await client.embeddings.create({
      model,
      input: text,
      encoding_format: 'float',
    });
    const inBatch = await client.embeddings.create({
      model,
      input: ['Noir', text, 'A documentary about stunt doubles'],
    });

    expect(Array.isArray(asFloat.data[0].embedding)).toBe(true);
    const alone = asFloat.data[0].embedding;
    const batched = inBatch.data[1].embedding;
    expect(
      Math.max(...alone.map((x, i) => Math.abs(x - batched[i]))),
    ).toBeLessThan(1e-5);
  });

  it('accepts token ids', async () => {
    const response = await client.embeddings.create({
      model,
      input: [
        [5, 6, 7],
        [8, 9],
      ],
    });

    expect(response.data).toHaveLength(2);
    expect(response.usage.prompt_tokens).toBe(5);
  });

  it('answers 400 naming dimensions when the model cannot give that many', async () => {
    const error = await rejectionOf(
      client.embeddings.create({ model, input: 'x', dimensions: 8 }),
    );

    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, param: 'dimensions' });
  });

  it('answers a text-generation model with 400 on model, naming the endpoints that serve it', async () => {
    const error = await rejectionOf(
      client.embeddings.create({ model: e2eStack().model, input: 'x' }),
    );

    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({
      status: 400,
      param: 'model',
      code: 'model_task_mismatch',
      error: {
        message: `The model \`${e2eStack().model}\` is a text-generation model and cannot be used with /v1/embeddings; use /v1/chat/completions, /v1/completions or /v1/responses.`,
      },
    });
  });
});
