import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Linter } from 'eslint';
import type { Probe } from './lint-boundaries';

const ROOT = join(__dirname, '..', '..', '..');

/** The boundaries rule's messages for each probe, from the workspace's real ESLint config. */
function lintBoundaries(probes: Probe[]): string[][] {
  const result = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
      join(__dirname, 'lint-boundaries.ts'),
    ],
    { cwd: ROOT, input: JSON.stringify(probes), encoding: 'utf8' },
  );
  const line = result.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('['))
    throw new Error(
      `lint-boundaries failed:\n${result.stdout}${result.stderr}`,
    );
  return (JSON.parse(line) as Linter.LintMessage[][]).map((messages) =>
    messages.map((m) => m.message),
  );
}

const importing = (lib: string, name: string) =>
  `import { ${name} } from '${lib}';\nexport const used = ${name};\n`;

describe('module boundaries (eslint.config.mjs)', () => {
  let engineSource: string[];
  let engineSpecReachingPg: string[];
  let engineSpecMakingModel: string[];
  let gatewaySource: string[];

  beforeAll(() => {
    [engineSource, engineSpecReachingPg, engineSpecMakingModel, gatewaySource] =
      lintBoundaries([
        {
          filePath: 'libs/worker/inference/src/boundary-probe.ts',
          code: importing('@marquee/shared/util-setup', 'freePort'),
        },
        {
          filePath: 'libs/worker/inference/src/boundary-probe.spec.ts',
          code: importing('@marquee/shared/util-setup', 'freePort'),
        },
        {
          filePath: 'libs/worker/inference/src/boundary-probe.spec.ts',
          code: importing('@marquee/shared/model-maker', 'makeEcho'),
        },
        {
          filePath: 'libs/gateway/feature-openai/src/boundary-probe.ts',
          code: importing('@marquee/shared/model-maker', 'makeCausalLm'),
        },
      ]);
  }, 60_000);

  it('keeps the testing-only util-setup out of the engine', () => {
    expect(engineSource).toEqual([
      expect.stringContaining(
        'can only depend on libs tagged with "type:util"',
      ),
    ]);
  });

  it('stops an engine spec from reaching pg and ioredis through util-setup', () => {
    expect(engineSpecReachingPg).toEqual([
      expect.stringContaining(
        'Nested import of "pg" found at shared-util-setup',
      ),
      expect.stringContaining(
        'Nested import of "ioredis" found at shared-util-setup',
      ),
    ]);
  });

  it('lets an engine spec generate a model with model-maker', () => {
    expect(engineSpecMakingModel).toEqual([]);
  });

  it('keeps the testing-only model-maker out of gateway code', () => {
    expect(gatewaySource).toEqual([
      expect.stringContaining('can only depend on libs tagged with'),
    ]);
  });
});
