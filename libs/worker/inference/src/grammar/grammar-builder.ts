import type { StructuralTag } from '@mlc-ai/web-xgrammar';
import { GrammarError } from './grammar-error';
import { sanitizeJsonEbnf } from './json-ebnf';
import {
  createXGrammarRuntime,
  type XGrammar,
  type XGrammarRuntime,
} from './load-xgrammar';
import type { OutputConstraint, ToolSpec } from './output-constraint';
import { preflightSchema, type JsonSchema } from './schema-preflight';
import { toolCallStructuralTag } from './tool-call-format';

/** A constraint as XGrammar compiles it: EBNF, or a structural tag. */
export type GrammarSource =
  | { kind: 'ebnf'; ebnf: string }
  | { kind: 'structural_tag'; tag: StructuralTag };

/**
 * Turns constraints into grammar text, checking client input in an XGrammar instance of its own.
 *
 * XGrammar reports a bad schema or regex by printing the reason and aborting the WASM module; the
 * instance survives but its stack pointer does not unwind, and after a few dozen aborts it hangs.
 * So everything that can fail on client input (schema to EBNF, parsing EBNF and structural tags)
 * runs here, in an instance that is dropped after any failure; the instance that compiles
 * against the tokenizer only ever sees grammars this one has parsed.
 */
export class GrammarBuilder {
  private runtime?: XGrammarRuntime;

  /** @param print where XGrammar's warnings go. */
  constructor(private readonly print: (line: string) => void) {}

  /** Throws {@link GrammarError} (without `param`) for a constraint that cannot be enforced. */
  async build(constraint: OutputConstraint): Promise<GrammarSource> {
    switch (constraint.kind) {
      case 'json_object':
        return { kind: 'ebnf', ebnf: await this.jsonEbnf({ type: 'object' }) };
      case 'json_schema':
        return { kind: 'ebnf', ebnf: await this.jsonEbnf(constraint.schema) };
      case 'tool_calls':
        return {
          kind: 'structural_tag',
          tag: await this.toolCallTag(
            constraint.mode,
            constraint.parallel,
            constraint.tools,
          ),
        };
    }
  }

  /** Compact-JSON EBNF for a schema, parsed once here to prove it is well-formed. */
  private async jsonEbnf(schema: JsonSchema): Promise<string> {
    const checked = JSON.stringify(preflightSchema(schema));
    const printed = await this.inRuntime(async (xg) => {
      const grammar = await xg.Grammar.fromJSONSchema(
        checked,
        false,
        -1,
        [',', ':'],
        true,
      );
      try {
        return grammar.toString();
      } finally {
        grammar.dispose();
      }
    });
    const ebnf = sanitizeJsonEbnf(printed);
    await this.inRuntime(async (xg) =>
      (await xg.Grammar.fromEBNF(ebnf)).dispose(),
    );
    return ebnf;
  }

  private async toolCallTag(
    mode: 'auto' | 'required',
    parallel: boolean,
    tools: readonly ToolSpec[],
  ): Promise<StructuralTag> {
    if (tools.length === 0) throw new GrammarError('no tools to call');
    const names = new Set<string>();
    const withEbnf: { name: string; argumentsEbnf: string }[] = [];
    for (const { name, parameters } of tools) {
      if (names.has(name))
        throw new GrammarError(`two tools are named ${JSON.stringify(name)}`);
      names.add(name);
      // Arguments are an object, whatever a schema without "type" would allow.
      const schema =
        'type' in parameters ? parameters : { type: 'object', ...parameters };
      try {
        withEbnf.push({ name, argumentsEbnf: await this.jsonEbnf(schema) });
      } catch (error) {
        if (!(error instanceof GrammarError)) throw error;
        throw new GrammarError(
          `tool ${JSON.stringify(name)}: ${error.message}`,
        );
      }
    }
    const tag = toolCallStructuralTag(mode, parallel, withEbnf);
    await this.inRuntime(async (xg) =>
      (await xg.Grammar.fromStructuralTag(tag)).dispose(),
    );
    return tag;
  }

  private async inRuntime<T>(work: (xg: XGrammar) => Promise<T>): Promise<T> {
    const runtime = (this.runtime ??= createXGrammarRuntime(this.print));
    try {
      return await work(runtime.xg);
    } catch (error) {
      if (this.runtime === runtime) this.runtime = undefined;
      const fatal = runtime.takeFatal();
      throw new GrammarError(
        fatal
          ? describeFatal(fatal)
          : error instanceof Error
            ? error.message
            : String(error),
      );
    }
  }
}

/** XGrammar's `[FATAL] /path/file.cc:123: Check failed: (cond) is false: why` -> `why`. */
export function describeFatal(line: string): string {
  return line
    .replace(/^\[FATAL\] \S+?:\d+: /, '')
    .replace(/^Check failed: .*? is false: /, '');
}
