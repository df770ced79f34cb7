// npm run model:make -- --layers 2 --hidden 64 --heads 4 --vocab 512 --out models/tiny
import { parseArgs } from 'node:util';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { makeCausalLm } from '@marquee/shared/model-maker';

const USAGE =
  'usage: model:make -- [--layers 2] [--hidden 64] [--heads 4] [--vocab 512] [--context 256] ' +
  '[--dtype fp32|fp16] [--seed 42] [--name NAME] [--external-data auto|true|false] --out DIR';

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
        layers: { type: 'string', default: '2' },
        hidden: { type: 'string', default: '64' },
        heads: { type: 'string', default: '4' },
        vocab: { type: 'string', default: '512' },
        context: { type: 'string', default: '256' },
        dtype: { type: 'string', default: 'fp32' },
        seed: { type: 'string', default: '42' },
        'external-data': { type: 'string', default: 'auto' },
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
  const dtype = values.dtype;
  if (dtype !== 'fp32' && dtype !== 'fp16')
    fail(`--dtype must be fp32 or fp16, got "${dtype}"`);
  const external = values['external-data'];
  if (external !== 'auto' && external !== 'true' && external !== 'false')
    fail(`--external-data must be auto, true or false, got "${external}"`);

  const started = performance.now();
  let made;
  try {
    made = makeCausalLm({
      out: values.out,
      name: values.name,
      layers: integer('layers', values.layers),
      hidden: integer('hidden', values.hidden),
      heads: integer('heads', values.heads),
      vocab: integer('vocab', values.vocab),
      context: integer('context', values.context),
      seed: integer('seed', values.seed),
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
