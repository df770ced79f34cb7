/**
 * A constraint that cannot be compiled: a malformed JSON schema, or one using what constrained
 * decoding cannot enforce. The message says why and is fit to show a client. `param` is the
 * request field at fault (`response_format` for JSON modes, `tools` for tool calls), set by
 * {@link GrammarEngine.compile}.
 */
export class GrammarError extends Error {
  override readonly name = 'GrammarError';
  readonly code = 'invalid_constraint';

  constructor(
    message: string,
    readonly param?: 'response_format' | 'tools',
  ) {
    super(message);
  }
}
