import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes the JSON files of a model folder (`tokenizer.json`, `config.json`, `marquee.json`...),
 * pretty-printed as Hugging Face writes them, in the order given; returns their names.
 */
export function writeJsonFiles(
  out: string,
  files: [name: string, value: unknown][],
): string[] {
  for (const [name, value] of files)
    writeFileSync(join(out, name), JSON.stringify(value, null, 2) + '\n');
  return files.map(([name]) => name);
}
