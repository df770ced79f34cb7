// Runs the workspace's own `@nx/enforce-module-boundaries` settings (eslint.config.mjs) on
// source texts, as if each were the file at the given path, and prints the messages as JSON.
// Input on stdin: `[{ "filePath": "libs/...", "code": "..." }]`, paths relative to the root.
// ESLint loads its ESM config with `import()`, which Jest's module system cannot do, so the spec
// runs this in a child process.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint, type Linter } from 'eslint';

const ROOT = join(__dirname, '..', '..', '..');

/** A source text linted as if it were the file at `filePath` (relative to the root). */
export interface Probe {
  filePath: string;
  code: string;
}

async function main(): Promise<void> {
  const probes = JSON.parse(readFileSync(0, 'utf8')) as Probe[];
  // The rule reads Nx's cached project graph; refresh it so that tags edited a moment ago
  // count (the `lint` script does the same).
  execFileSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'),
      'show',
      'projects',
    ],
    { cwd: ROOT, stdio: 'ignore' },
  );
  const eslint = new ESLint({
    cwd: ROOT,
    // The probes are not on disk, so TypeScript's project service cannot type them; the
    // boundaries rule needs no types.
    overrideConfig: {
      languageOptions: { parserOptions: { projectService: false } },
    },
    ruleFilter: ({ ruleId }) => ruleId === '@nx/enforce-module-boundaries',
  });
  const messages: Linter.LintMessage[][] = [];
  for (const probe of probes) {
    const [result] = await eslint.lintText(probe.code, {
      filePath: join(ROOT, probe.filePath),
    });
    messages.push(result?.messages ?? []);
  }
  process.stdout.write(`${JSON.stringify(messages)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
