import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  Optional,
} from '@nestjs/common';
import {
  decodeModelControlMessage,
  MODEL_CONTROL_CHANNEL,
  MODEL_DESIRED_STATE_KEY,
  type ModelControlMessage,
} from '@marquee/contracts/queue';
import { readModelManifest } from '@marquee/shared/model-format';
import { DrainState } from '@marquee/shared/util-observability';
import { WorkerConfig } from '@marquee/worker/util-config';
import { openWorkerRedis } from '@marquee/worker/feature-fair-queue';
import type { Redis } from 'ioredis';
import { resolveArtifactPath } from './artifact-path';
import { MODEL_CONSUMERS, type ModelConsumers } from './model-consumers';
import { ModelHost } from './model-host.service';
import { WorkerPresenceReporter } from './worker-presence.reporter';

type LoadMessage = Extract<ModelControlMessage, { action: 'load' }>;

/**
 * Loads and unloads models while the worker runs, as the admin API asks: listens on the model
 * control channel and, at start and after a lost connection, replays the stored desired state.
 * One change at a time, in the order received; loading a served model and unloading one not
 * served do nothing, so a message seen twice is harmless.
 */
@Injectable()
export class ModelLoader implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ModelLoader.name);
  private subscriber: Redis | null = null;
  private work: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly config: WorkerConfig,
    private readonly host: ModelHost,
    @Inject(MODEL_CONSUMERS) private readonly consumers: ModelConsumers,
    private readonly presence: WorkerPresenceReporter,
    @Optional() private readonly drain?: DrainState,
  ) {}

  /** Subscribes, then applies the stored desired state (the worker is ready once it is). */
  async onApplicationBootstrap(): Promise<void> {
    const subscriber = openWorkerRedis(
      this.config.redisUrl,
      'model-control',
      'subscriber',
    );
    this.subscriber = subscriber;
    subscriber.on('message', (_channel: string, raw: string) =>
      this.receive(raw),
    );
    let connectedBefore = false;
    // Messages published while the connection was down are lost: catch up from the hash.
    subscriber.on('ready', () => {
      if (connectedBefore) void this.replay();
      connectedBefore = true;
    });
    // Subscribe before reading the hash, so nothing published in between is missed.
    await subscriber.subscribe(MODEL_CONTROL_CHANNEL).catch((error: Error) => {
      this.logger.warn(`model control channel: ${error.message}`);
    });
    await this.replay();
  }

  /** Applies every stored desired state; resolves once they are applied. */
  private async replay(): Promise<void> {
    const redis = openWorkerRedis(
      this.config.redisUrl,
      'model-state',
      'commands',
    );
    try {
      const stored = await redis.hgetall(MODEL_DESIRED_STATE_KEY);
      for (const raw of Object.values(stored)) this.receive(raw);
    } catch (error) {
      this.logger.warn(`desired model state: ${(error as Error).message}`);
    } finally {
      redis.disconnect();
    }
    await this.work;
  }

  private receive(raw: string): void {
    const message = decodeModelControlMessage(raw);
    if (!message) {
      this.logger.warn('ignored a malformed model control message');
      return;
    }
    if (message.workerIds && !message.workerIds.includes(this.config.workerId))
      return;
    this.work = this.work
      .then(() => this.apply(message))
      .catch((error: Error) =>
        this.logger.error(
          { model: message.name, err: error.message },
          `model ${message.action} failed`,
        ),
      );
  }

  private async apply(message: ModelControlMessage): Promise<void> {
    if (this.stopped || this.drain?.draining) return;
    switch (message.action) {
      case 'load':
        return this.load(message);
      case 'unload':
        return this.unload(message.name);
    }
  }

  private async load(message: LoadMessage): Promise<void> {
    const { name } = message;
    if (this.host.has(name)) return;
    try {
      const dir = await resolveArtifactPath(
        message.artifactPath,
        this.config.modelRoots,
      );
      const manifest = await readModelManifest(dir);
      const task =
        manifest.task === 'embedding' ? 'embedding' : 'text_generation';
      if (manifest.name !== name || task !== message.task)
        throw new Error(
          `${dir} holds ${manifest.task} model ${manifest.name}, not ${message.task} model ${name}`,
        );
      const model = await ModelHost.loadModel(dir, this.config);
      if (this.stopped) return void (await model.dispose());
      this.host.add(model);
      if (this.host.embedder(name)) this.consumers.embedding.serve(name);
      else this.consumers.textGeneration.serve(name);
      this.presence.setModelError(name, null);
      this.logger.log({ model: name, dir }, `serving ${name}`);
    } catch (error) {
      const reason = (error as Error).message;
      this.logger.warn(
        { model: name, artifactPath: message.artifactPath },
        `refused to load ${name}: ${reason}`,
      );
      this.presence.setModelError(name, reason);
    }
    await this.presence.announce();
  }

  private async unload(name: string): Promise<void> {
    this.presence.setModelError(name, null);
    if (!this.host.has(name)) return this.presence.announce();
    // Stop taking its jobs first; the running ones still find the model until they end.
    const retiring = this.host.embedder(name)
      ? this.consumers.embedding.retire(name)
      : this.consumers.textGeneration.retire(name);
    this.host.withdraw(name);
    await this.presence.announce();
    await retiring;
    await this.host.remove(name)?.dispose();
    this.logger.log({ model: name }, `unloaded ${name}`);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.subscriber?.disconnect();
    await this.work;
  }
}
