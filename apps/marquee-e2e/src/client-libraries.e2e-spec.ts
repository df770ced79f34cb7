import { createOpenAI } from '@ai-sdk/openai';
import { tool as langchainTool } from '@langchain/core/tools';
import { ChatOpenAI } from '@langchain/openai';
import { generateObject, generateText, tool } from 'ai';
import { z } from 'zod';
import { serveGeneratedModel } from './support/served-model';
import { e2eStack } from './support/stack';

// What apps are built on, pointed at Marquee with only the base URL and key changed.
const { model: baseModel, origin, apiKey } = e2eStack();
const model = `${baseModel}-apps`;
const baseURL = `${origin}/v1`;

/** Bounded, so a grammar-held answer always ends within max tokens. */
const Film = z.object({
  title: z.string().max(16),
  year: z.number().int().min(1900).max(2030),
  genre: z.enum(['thriller', 'comedy', 'drama']),
  cast: z
    .array(z.object({ name: z.string().max(10), lead: z.boolean() }))
    .min(1)
    .max(3),
});
const Weather = z.object({
  city: z.string().max(12),
  unit: z.enum(['c', 'f']),
});

let unserve: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ unserve } = await serveGeneratedModel(model, 3));
});

afterAll(async () => {
  await unserve?.();
});

describe('LangChain (@langchain/openai)', () => {
  const llm = new ChatOpenAI({
    model,
    apiKey,
    configuration: { baseURL },
    maxRetries: 0,
    maxTokens: 400,
    temperature: 1,
  });

  it('bindTools with tool_choice required and no parallel calls: one tool call with parsed arguments that match the tool', async () => {
    const getWeather = langchainTool(async () => 'sunny', {
      name: 'get_weather',
      description: 'Weather in a city',
      schema: Weather,
    });
    const message = await llm
      .bindTools([getWeather], {
        tool_choice: 'required',
        parallel_tool_calls: false,
      })
      .invoke('Weather in Lisbon?');
    expect(message.tool_calls).toHaveLength(1);
    for (const call of message.tool_calls ?? []) {
      expect(call.name).toBe('get_weather');
      expect(Weather.safeParse(call.args).success).toBe(true);
    }
  });

  // (`jsonMode` asks for any JSON object, which a random model may not finish within max tokens.)
  it.each(['jsonSchema', 'functionCalling'] as const)(
    'withStructuredOutput (method %s) returns an object that matches the schema',
    async (method) => {
      const film = await llm
        .withStructuredOutput(Film, { method })
        .invoke('Describe a film.');
      expect(Film.parse(film)).toEqual(film);
    },
  );
});

describe.each([
  ['chat completions (openai.chat)', 'chat'],
  ['the Responses API (the default provider)', 'responses'],
] as const)('Vercel AI SDK (ai + @ai-sdk/openai) on %s', (_, api) => {
  const provider = createOpenAI({ baseURL, apiKey });
  const languageModel = () =>
    api === 'chat' ? provider.chat(model) : provider(model);

  it('generateObject returns an object that matches the schema', async () => {
    const { object } = await generateObject({
      model: languageModel(),
      prompt: 'Describe a film.',
      schema: Film,
      maxOutputTokens: 400,
      maxRetries: 0,
    });
    expect(Film.parse(object)).toEqual(object);
  });

  it('generateText with a required tool returns typed tool calls', async () => {
    const result = await generateText({
      model: languageModel(),
      prompt: 'Weather in Porto?',
      tools: {
        get_weather: tool({
          description: 'Weather in a city',
          inputSchema: Weather,
        }),
      },
      toolChoice: 'required',
      // One call, so the answer ends when it does; with parallel calls a random model may keep
      // adding calls until max tokens.
      providerOptions: { openai: { parallelToolCalls: false } },
      maxOutputTokens: 300,
      maxRetries: 0,
    });
    expect(result.finishReason).toBe('tool-calls');
    expect(result.toolCalls).toHaveLength(1);
    for (const call of result.toolCalls) {
      expect(call.toolName).toBe('get_weather');
      expect(Weather.parse(call.input)).toEqual(call.input);
    }
  });
});
