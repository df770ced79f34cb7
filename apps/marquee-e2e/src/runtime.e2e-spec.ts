import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type GenerationParams,
  TextGenerator,
} from '@marquee/worker/inference';
import { openai } from './support/clients';
import { e2eStack } from './support/stack';

const client = openai();
const { model, modelsDir, workerLog } = e2eStack();
const messages = [
  { role: 'user' as const, content: 'Write the logline of a heist film' },
];

/**
 * The e2e worker runs its causal LM through Marquee's ONNX Runtime addon (ORT_RUNTIME=addon,
 * built by `npm test` before the specs): the KV cache stays in the session's memory between
 * steps. What a client receives must be what onnxruntime-node computes, here in the test's
 * own process on the same model folder.
 */
describe('the worker on the ONNX Runtime addon', () => {
  let reference: TextGenerator;

  beforeAll(async () => {
    reference = await TextGenerator.load(join(modelsDir, model), {
      runtime: 'onnxruntime-node',
      intraOpThreads: 1,
    });
  });
  afterAll(() => reference?.dispose());

  const expected = async (params: Partial<GenerationParams>) =>
    reference.generate(
      reference.encode({ kind: 'chat', messages }),
      { maxTokens: 24, n: 1, temperature: 0, topP: 1, stop: [], ...params },
      () => undefined,
    );

  it('logs that the model runs through the addon', () => {
    expect(readFileSync(workerLog, 'utf8')).toMatch(
      new RegExp(
        `loaded text-generation model ${model} through the ONNX Runtime addon \\(KV cache in device memory\\) from .* on cpu`,
      ),
    );
  });

  it('answers greedy chat with the text and token counts onnxruntime-node computes', async () => {
    const want = await expected({});
    const response = await client.chat.completions.create({
      model,
      messages,
      max_tokens: 24,
      temperature: 0,
    });
    expect(response.choices[0].message.content).toBe(want.choices[0].text);
    expect(response.usage?.prompt_tokens).toBe(want.promptTokens);
    expect(response.usage?.completion_tokens).toBe(want.completionTokens);
  });

  it('streams seeded samples, several choices at once, that onnxruntime-node computes too', async () => {
    const want = await expected({ n: 3, temperature: 1.1, topP: 0.9, seed: 7 });
    const stream = await client.chat.completions.create({
      model,
      messages,
      max_tokens: 24,
      temperature: 1.1,
      top_p: 0.9,
      seed: 7,
      n: 3,
      stream: true,
    });
    const texts = ['', '', ''];
    for await (const chunk of stream)
      for (const choice of chunk.choices)
        texts[choice.index] += choice.delta.content ?? '';
    expect(texts).toEqual(want.choices.map((c) => c.text));
  });
});
