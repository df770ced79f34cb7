// npm run model:make -- --layers 2 --hidden 64 --heads 4 --vocab 512 --out models/tiny
// npm run model:make -- --kind echo --out models/echo
import { parseArgs } from 'node:util';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { makeCausalLm, makeEcho } from '@marquee/shared/model-maker';

const USAGE =
  'usage: model:make -- [--kind causal-lm] [--layers 2] [--hidden 64] [--heads 4] [--vocab 512] [--context 256] ' +
  '[--dtype fp32|fp16] [--seed 42] [--name NAME] [--external-data auto|true|false] --out DIR\n' +
  '       model:make -- --kind echo [--vocab 512] [--context 4096] [--name echo] --out DIR  (no model.onnx: echoes prompts)';

/** Flags that shape a network, which an echo model does not have. */
const NETWORK_FLAGS = [
  'layers',
  'hidden',
  'heads',
  'dtype',
  'seed',
  'external-data',
] as const;

function fail(message: string): never {
  console.error(`model-make: ${message} (--help for usage)`);
  process.exit(2);
}

function integer(flag: string, value: string): number {
  if (!/^\d+$/.test(value))
    fail(`--${flag} must be a non-negative integer, got "${value}"`);
  return Number(value);
}

function main(): void {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        kind: { type: 'string', default: 'causal-lm' },
        // Defaults below are the causal LM's, applied after --kind is known.
        layers: { type: 'string' },
        hidden: { type: 'string' },
        heads: { type: 'string' },
        vocab: { type: 'string', default: '512' },
        context: { type: 'string' },
        dtype: { type: 'string' },
        seed: { type: 'string' },
        'external-data': { type: 'string' },
        name: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (!values.out) fail('--out is required');
  if (values.kind === 'echo') {
    const stray = NETWORK_FLAGS.filter((flag) => values[flag] !== undefined);
    if (stray.length > 0)
      fail(
        `--kind echo has no network: drop ${stray.map((f) => `--${f}`).join(', ')}`,
      );
    let made;
    try {
      made = makeEcho({
        out: values.out,
        name: values.name,
        vocab: integer('vocab', values.vocab),
        context:
          values.context === undefined
            ? undefined
            : integer('context', values.context),
      });
    } catch (error) {
      fail((error as Error).message);
    }
    console.log(
      `wrote echo model ${made.manifest.name} (vocab ${integer('vocab', values.vocab)}, context ${made.manifest.contextLength}, no model.onnx) to ${made.dir}: ${made.files.join(', ')}`,
    );
    return;
  }
  if (values.kind !== 'causal-lm')
    fail(`--kind must be causal-lm or echo, got "${values.kind}"`);
  const dtype = values.dtype ?? 'fp32';
  if (dtype !== 'fp32' && dtype !== 'fp16')
    fail(`--dtype must be fp32 or fp16, got "${dtype}"`);
  const external = values['external-data'] ?? 'auto';
  if (external !== 'auto' && external !== 'true' && external !== 'false')
    fail(`--external-data must be auto, true or false, got "${external}"`);

  const started = performance.now();
  let made;
  try {
    made = makeCausalLm({
      out: values.out,
      name: values.name,
      layers: integer('layers', values.layers ?? '2'),
      hidden: integer('hidden', values.hidden ?? '64'),
      heads: integer('heads', values.heads ?? '4'),
      vocab: integer('vocab', values.vocab),
      context: integer('context', values.context ?? '256'),
      seed: integer('seed', values.seed ?? '42'),
      dtype,
      externalData: external === 'auto' ? 'auto' : external === 'true',
    });
  } catch (error) {
    fail((error as Error).message);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  const mib = (file: string) =>
    (statSync(join(made.dir, file)).size / 2 ** 20).toFixed(1);
  console.log(
    `wrote ${made.manifest.name} (${(made.parameters / 1e6).toFixed(2)}M parameters, ${made.manifest.dtype}) to ${made.dir} in ${seconds}s`,
  );
  for (const file of made.files)
    console.log(`  ${file.padEnd(24)} ${mib(file).padStart(9)} MiB`);
  console.log(
    `  eos/bos <|endoftext|>=${made.tokenIds.endOfText} <|im_start|>=${made.tokenIds.imStart} <|im_end|>=${made.tokenIds.imEnd}`,
  );
}

main();
