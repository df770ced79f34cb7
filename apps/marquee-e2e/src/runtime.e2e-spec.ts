import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Gpt2Weights,
  readGpt2Weights,
  referenceForward,
} from '@marquee/shared/model-maker';
import { PromptTokenizer } from '@marquee/shared/tokenization';
import { openai } from './support/clients';
import { e2eStack } from './support/stack';

const client = openai();
const { model, modelsDir, workerLog } = e2eStack();
const messages = [
  { role: 'user' as const, content: 'Write the logline of a heist film' },
];
const MAX_TOKENS = 24;

/** Greedy tokens by the plain-JavaScript reference forward pass, special tokens banned. */
function referenceGreedy(
  weights: Gpt2Weights,
  prompt: number[],
  banned: readonly number[],
): number[] {
  const ids = [...prompt];
  const out: number[] = [];
  while (out.length < MAX_TOKENS) {
    const { logits } = referenceForward(
      weights,
      [ids],
      [ids.map(() => 1)],
      [ids.map((_, i) => i)],
    );
    const last = logits.slice((ids.length - 1) * weights.vocab);
    for (const id of banned) last[id] = -Infinity;
    const token = last.indexOf(Math.max(...last));
    out.push(token);
    ids.push(token);
  }
  return out;
}

/**
 * The e2e worker runs its causal LM through Marquee's ONNX Runtime addon (ORT_RUNTIME=addon,
 * built by `npm test` before the specs): the KV cache stays in the session's memory between
 * steps and batches are composed there. What a client receives must be what an independent
 * computation gives: the model maker's plain-JavaScript forward pass over the same weights.
 */
describe('the worker on the ONNX Runtime addon', () => {
  const dir = join(modelsDir, model);
  let expectedText: string;
  let promptTokens: number;
  let banned: number[];

  beforeAll(async () => {
    const tokenizer = await PromptTokenizer.load(dir);
    banned = (
      JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as {
        added_tokens: { id: number }[];
      }
    ).added_tokens.map((t) => t.id);
    const prompt = tokenizer.encode({ kind: 'chat', messages });
    promptTokens = prompt.length;
    expectedText = tokenizer.decode(
      referenceGreedy(readGpt2Weights(dir), prompt, banned),
    );
  });

  const request = () => ({
    model,
    messages,
    max_tokens: MAX_TOKENS,
    temperature: 0,
    logit_bias: Object.fromEntries(banned.map((id) => [String(id), -100])),
  });

  it('logs that the model runs through the addon', () => {
    expect(readFileSync(workerLog, 'utf8')).toMatch(
      new RegExp(
        `loaded text-generation model ${model} through the ONNX Runtime addon \\(KV cache in device memory\\) from .* on cpu`,
      ),
    );
  });

  it('answers greedy chat with the reference forward pass’s text and token counts', async () => {
    const response = await client.chat.completions.create(request());
    expect(response.choices[0].message.content).toBe(expectedText);
    expect(response.usage?.prompt_tokens).toBe(promptTokens);
    expect(response.usage?.completion_tokens).toBe(MAX_TOKENS);
  });

  it('streams it to two choices from one prefill, and to requests batched together', async () => {
    const streamed = async () => {
      const stream = await client.chat.completions.create({
        ...request(),
        n: 2,
        stream: true,
      });
      const texts = ['', ''];
      for await (const chunk of stream)
        for (const choice of chunk.choices)
          texts[choice.index] += choice.delta.content ?? '';
      return texts;
    };
    const all = await Promise.all([streamed(), streamed(), streamed()]);
    expect(all.flat()).toEqual(Array(6).fill(expectedText));
  });
});
