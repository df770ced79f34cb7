import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..', '..');
const GENERATED = 'libs/contracts/proto/src/generated';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

/** What `npm run proto:generate` does, into `out` instead of the source tree. */
function generateInto(out: string): Map<string, string> {
  execFileSync(
    join(ROOT, 'node_modules', '.bin', 'buf'),
    [
      'generate',
      '--template',
      'libs/contracts/proto/buf.gen.yaml',
      '--output',
      out,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const dir = join(out, GENERATED);
  return new Map(
    filesUnder(dir).map((file) => [
      file,
      // Formatted as if it sat in the source tree, with the repository's Prettier settings.
      execFileSync(
        process.execPath,
        [
          join(ROOT, 'node_modules', 'prettier', 'bin', 'prettier.cjs'),
          '--stdin-filepath',
          join(GENERATED, file),
        ],
        { cwd: ROOT, input: readFileSync(join(dir, file)) },
      ).toString(),
    ]),
  );
}

describe('the generated wire types', () => {
  it('are what `npm run proto:generate` makes of the .proto files now (run it after editing one)', () => {
    const out = mkdtempSync(join(tmpdir(), 'marquee-proto-'));
    try {
      const fresh = generateInto(out);
      const committed = join(ROOT, GENERATED);
      expect(filesUnder(committed)).toEqual([...fresh.keys()]);
      const stale = [...fresh].filter(
        ([file, text]) => readFileSync(join(committed, file), 'utf8') !== text,
      );
      expect(stale.map(([file]) => file)).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 30_000);
});
