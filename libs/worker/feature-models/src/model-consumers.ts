/** What takes a model's jobs from its queues: the worker's job processors. */
export interface ModelConsumer {
  /** Starts taking the model's jobs (no-op if already). */
  serve(model: string): void;
  /** Stops taking them; resolves once its running jobs have finished. */
  retire(model: string): Promise<void>;
}

/** The consumer of each kind of model, as the model loader hands loaded models on to them. */
export interface ModelConsumers {
  textGeneration: ModelConsumer;
  embedding: ModelConsumer;
}

/** DI token for the {@link ModelConsumers} (provided by the job side, `FeatureJobsModule`). */
export const MODEL_CONSUMERS = Symbol('MODEL_CONSUMERS');
