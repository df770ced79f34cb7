export { CompiledConstraint } from './compiled-constraint';
export { ConstraintMatcher } from './constraint-matcher';
export {
  GrammarEngine,
  type GrammarCacheStats,
  type GrammarEngineOptions,
} from './grammar-engine';
export { GrammarError } from './grammar-error';
export {
  constraintKey,
  type OutputConstraint,
  type ToolSpec,
} from './output-constraint';
export type { JsonSchema } from './schema-preflight';
