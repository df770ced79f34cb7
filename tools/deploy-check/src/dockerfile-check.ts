/**
 * Lints the Dockerfiles: syntax and instruction checks from dockerfile-utils (the linter behind
 * the VS Code Docker extension; hadolint is not packaged for Debian or npm), then rules in the
 * spirit of hadolint's: the final stage runs as a non-root USER, base images are pinned to a
 * tag (never `latest`), COPY --from names an earlier stage, no ADD, apt-get with
 * --no-install-recommends, a CMD on the final stage.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

interface Diagnostic {
  message: string;
  severity?: number;
  range: { start: { line: number } };
}

export function lintDockerfile(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const require = createRequire(import.meta.url);
  const { validate } = require('dockerfile-utils') as {
    validate(content: string, settings?: object): Diagnostic[];
  };
  const problems = validate(text, {
    deprecatedMaintainer: 2,
    instructionCasing: 1,
  })
    // 1 = error, 2 = warning: both fail the check.
    .filter((d) => (d.severity ?? 1) <= 2)
    .map((d) => `${file}:${d.range.start.line + 1}: ${d.message}`);

  const lines = text.split('\n');
  const args = new Map<string, string>();
  const stages: string[] = [];
  let user: string | null = null;
  let cmd = false;
  lines.forEach((line, index) => {
    const where = `${file}:${index + 1}`;
    const arg = /^ARG (\w+)=(\S+)/.exec(line);
    if (arg) args.set(arg[1], arg[2]);
    const from = /^FROM (\S+)(?: AS (\S+))?/i.exec(line);
    if (from) {
      const image = from[1].replace(
        /\$\{(\w+)\}/g,
        (_, name: string) => args.get(name) ?? '',
      );
      if (!stages.includes(from[1]) && !/:[\w.-]+$/.test(image))
        problems.push(
          `${where}: base image ${image || from[1]} is not pinned to a tag`,
        );
      if (/:latest$/.test(image))
        problems.push(`${where}: base image uses :latest`);
      if (from[2]) stages.push(from[2]);
      user = null;
      cmd = false;
    }
    const copyFrom = /^COPY .*--from=(\S+)/.exec(line);
    if (
      copyFrom &&
      !stages.includes(copyFrom[1]) &&
      !copyFrom[1].includes(':') &&
      !copyFrom[1].includes('/')
    )
      problems.push(
        `${where}: COPY --from=${copyFrom[1]} names no earlier stage`,
      );
    if (/^ADD /.test(line)) problems.push(`${where}: use COPY, not ADD`);
    if (/apt-get install/.test(line) && !/--no-install-recommends/.test(line))
      problems.push(
        `${where}: apt-get install without --no-install-recommends`,
      );
    const userLine = /^USER (\S+)/.exec(line);
    if (userLine) user = userLine[1];
    if (/^CMD /.test(line)) cmd = true;
  });
  if (!user || user === 'root' || user === '0')
    problems.push(
      `${file}: the final stage does not switch to a non-root USER`,
    );
  if (!cmd) problems.push(`${file}: the final stage has no CMD`);
  return problems;
}
