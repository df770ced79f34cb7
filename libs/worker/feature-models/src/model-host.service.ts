import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { MANIFEST_FILE, readModelManifest } from '@marquee/shared/model-format';
import {
  Embedder,
  type ExecutionProvider,
  TextGenerator,
} from '@marquee/worker/inference';
import type { WorkerConfig } from '@marquee/worker/util-config';

/**
 * The models a worker has loaded, by public name: causal LMs and embedding encoders. Loaded at
 * boot from `MODELS_DIR`, then added and removed while running (see ModelLoader).
 */
export class ModelHost {
  private static readonly logger = new Logger('ModelHost');

  private readonly leaving = new Set<string>();

  private constructor(
    private readonly generators: Map<string, TextGenerator>,
    private readonly embedders: Map<string, Embedder> = new Map(),
  ) {}

  /**
   * Loads every text-generation and embedding model under `config.modelsDir` (or only
   * `config.models` when set). Fails when a requested model is missing, or when nothing can be
   * served.
   */
  static async load(config: WorkerConfig): Promise<ModelHost> {
    const entries = await readdir(config.modelsDir, {
      withFileTypes: true,
    }).catch((error: unknown) => {
      throw new Error(
        `MODELS_DIR ${config.modelsDir} cannot be read: ${(error as Error).message}`,
      );
    });
    const generators = new Map<string, TextGenerator>();
    const embedders = new Map<string, Embedder>();
    for (const entry of entries.filter((e) => e.isDirectory())) {
      const dir = join(config.modelsDir, entry.name);
      // A folder without a manifest is not a model; one with a broken manifest is a mistake.
      const isModel = await access(join(dir, MANIFEST_FILE)).then(
        () => true,
        () => false,
      );
      if (!isModel) continue;
      const manifest = await readModelManifest(dir).catch((error: unknown) => {
        ModelHost.logger.warn(
          { dir, err: String(error) },
          'skipping a model folder whose manifest cannot be read',
        );
        return null;
      });
      if (!manifest) continue;
      if (config.models.length > 0 && !config.models.includes(manifest.name))
        continue;
      const model = await ModelHost.loadModel(dir, config);
      if (model instanceof Embedder) embedders.set(manifest.name, model);
      else generators.set(manifest.name, model);
    }
    const missing = config.models.filter(
      (m) => !generators.has(m) && !embedders.has(m),
    );
    if (missing.length > 0)
      throw new Error(
        `WORKER_MODELS names models not found in ${config.modelsDir}: ${missing.join(', ')}`,
      );
    // An empty worker still starts: it stays not-ready until a model is loaded through the
    // admin API (or the desired state stored in Redis).
    if (generators.size + embedders.size === 0)
      ModelHost.logger.warn(
        `no model found in ${config.modelsDir}; waiting for models to be loaded`,
      );
    return new ModelHost(generators, embedders);
  }

  /**
   * Loads one model folder, a causal LM (ONNX or echo) or an encoder as its `marquee.json` says.
   */
  static async loadModel(
    dir: string,
    config: Pick<
      WorkerConfig,
      | 'executionProvider'
      | 'cpuFallback'
      | 'runtime'
      | 'intraOpThreads'
      | 'scheduler'
    >,
  ): Promise<TextGenerator | Embedder> {
    const manifest = await readModelManifest(dir);
    const options = {
      executionProvider: config.executionProvider,
      cpuFallback: config.cpuFallback,
      onFallback: (reason: string) =>
        ModelHost.logger.warn(
          `${manifest.name}: ${reason} (EXECUTION_PROVIDER_FALLBACK=cpu)`,
        ),
      intraOpThreads: config.intraOpThreads || undefined,
    };
    const runtime = {
      runtime: config.runtime,
      onRuntimeFallback: (reason: string) =>
        ModelHost.logger.warn(`${manifest.name}: ${reason} (ORT_RUNTIME=addon)`),
    };
    const model =
      manifest.task === 'embedding'
        ? await Embedder.load(dir, options)
        : await TextGenerator.load(dir, {
            ...options,
            ...runtime,
            scheduler: config.scheduler,
          });
    // An echo model runs no network; say so, so nobody reads its speed as a model's.
    const engine =
      manifest.engine === 'echo'
        ? ' (echo engine: answers with the prompt)'
        : model instanceof TextGenerator && model.runtime === 'addon'
          ? ' through the ONNX Runtime addon (KV cache in device memory)'
          : ' through onnxruntime-node';
    ModelHost.logger.log(
      `loaded ${manifest.task} model ${manifest.name}${engine} from ${dir} on ${model.executionProvider}`,
    );
    return model;
  }

  /** Wraps already loaded models (tests, benchmarks). */
  static of(
    generators: TextGenerator[],
    embedders: Embedder[] = [],
  ): ModelHost {
    return new ModelHost(
      new Map(generators.map((g) => [g.name, g])),
      new Map(embedders.map((e) => [e.name, e])),
    );
  }

  /** Text-generation models, whose queues carry completion jobs. */
  get names(): string[] {
    return [...this.generators.keys()].sort();
  }

  /** Embedding models, whose queues carry embedding jobs. */
  get embeddingNames(): string[] {
    return [...this.embedders.keys()].sort();
  }

  /** Every model served, as the worker announces them (models being unloaded left out). */
  get allNames(): string[] {
    return [...this.names, ...this.embeddingNames]
      .filter((name) => !this.leaving.has(name))
      .sort();
  }

  /**
   * The execution provider the models run on: `cpu` when any of them fell back to it, undefined
   * while none is loaded.
   */
  get executionProvider(): ExecutionProvider | undefined {
    const providers = [
      ...this.generators.values(),
      ...this.embedders.values(),
    ].map((m) => m.executionProvider);
    if (providers.length === 0) return undefined;
    return providers.includes('cpu') ? 'cpu' : providers[0];
  }

  has(name: string): boolean {
    return this.generators.has(name) || this.embedders.has(name);
  }

  /** Serves a model loaded while running; refuses a name already served. */
  add(model: TextGenerator | Embedder): void {
    if (this.has(model.name))
      throw new Error(`model ${model.name} is already loaded`);
    if (model instanceof Embedder) this.embedders.set(model.name, model);
    else this.generators.set(model.name, model);
  }

  /** Stops announcing a model that is being unloaded; jobs already taken still find it. */
  withdraw(name: string): void {
    if (this.has(name)) this.leaving.add(name);
  }

  /** Forgets a model and hands it back; dispose it once its jobs are done. */
  remove(name: string): TextGenerator | Embedder | undefined {
    const model = this.generators.get(name) ?? this.embedders.get(name);
    this.generators.delete(name);
    this.embedders.delete(name);
    this.leaving.delete(name);
    return model;
  }

  get(name: string): TextGenerator | undefined {
    return this.generators.get(name);
  }

  embedder(name: string): Embedder | undefined {
    return this.embedders.get(name);
  }

  /** Jobs worth taking at once for a model: its batch size. */
  concurrency(name: string): number {
    const generator = this.generators.get(name);
    if (generator) return generator.scheduler.limits.maxBatchSize;
    return this.embedders.get(name)?.batching.maxBatchSize ?? 1;
  }

  async dispose(): Promise<void> {
    await Promise.all([
      ...[...this.generators.values()].map((g) => g.dispose()),
      ...[...this.embedders.values()].map((e) => e.dispose()),
    ]);
  }
}
