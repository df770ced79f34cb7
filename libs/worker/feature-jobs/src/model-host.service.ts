import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { readModelManifest } from '@marquee/shared/model-format';
import { TextGenerator } from '@marquee/worker/inference';
import type { WorkerConfig } from '@marquee/worker/util-config';

/** The models a worker has loaded, by public name. */
export class ModelHost {
  private static readonly logger = new Logger('ModelHost');

  private constructor(
    private readonly generators: Map<string, TextGenerator>,
  ) {}

  /**
   * Loads every text-generation model under `config.modelsDir` (or only `config.models` when
   * set). Fails when a requested model is missing, or when nothing can be served.
   */
  static async load(config: WorkerConfig): Promise<ModelHost> {
    const entries = await readdir(config.modelsDir, {
      withFileTypes: true,
    }).catch(() => {
      throw new Error(`MODELS_DIR ${config.modelsDir} cannot be read`);
    });
    const generators = new Map<string, TextGenerator>();
    for (const entry of entries.filter((e) => e.isDirectory())) {
      const dir = join(config.modelsDir, entry.name);
      const manifest = await readModelManifest(dir).catch(() => null);
      if (!manifest || manifest.task !== 'text-generation') continue;
      if (config.models.length > 0 && !config.models.includes(manifest.name))
        continue;
      const generator = await TextGenerator.load(dir, {
        executionProvider: config.executionProvider,
        intraOpThreads: config.intraOpThreads || undefined,
      });
      generators.set(manifest.name, generator);
      ModelHost.logger.log(
        `loaded ${manifest.name} from ${dir} on ${generator.executionProvider}`,
      );
    }
    const missing = config.models.filter((m) => !generators.has(m));
    if (missing.length > 0)
      throw new Error(
        `WORKER_MODELS names models not found in ${config.modelsDir}: ${missing.join(', ')}`,
      );
    if (generators.size === 0)
      throw new Error(`no text-generation model found in ${config.modelsDir}`);
    return new ModelHost(generators);
  }

  get names(): string[] {
    return [...this.generators.keys()].sort();
  }

  get(name: string): TextGenerator | undefined {
    return this.generators.get(name);
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.generators.values()].map((g) => g.dispose()));
  }
}
