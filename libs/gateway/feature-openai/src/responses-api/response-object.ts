import type { ConversationItem } from './conversation';
import type { ResponseRequest } from './response-request.schema';

/** An `output_text` content part (Marquee adds no annotations and reports no logprobs here). */
export interface OutputText {
  type: 'output_text';
  text: string;
  annotations: [];
  logprobs: [];
}

export type ItemStatus = 'in_progress' | 'completed' | 'incomplete';

/** An output item in OpenAI's shape: an assistant message, or a call of a function tool. */
export type OutputItem =
  | {
      type: 'message';
      id: string;
      status: ItemStatus;
      role: 'assistant';
      content: OutputText[];
    }
  | {
      type: 'function_call';
      id: string;
      call_id: string;
      name: string;
      arguments: string;
      status: ItemStatus;
    };

/** Token counts in the Responses API's `usage` shape (no prompt cache, no reasoning). */
export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: 0; cache_write_tokens: 0 };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: 0 };
  total_tokens: number;
}

export function responseUsage(
  inputTokens: number,
  outputTokens: number,
): ResponseUsage {
  return {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: inputTokens + outputTokens,
  };
}

export type ResponseStatus =
  | 'in_progress'
  | 'completed'
  | 'incomplete'
  | 'failed';

/** Where a response stands: everything of the response object that is not the request's echo. */
export interface ResponseState {
  status: ResponseStatus;
  output: OutputItem[];
  usage: ResponseUsage | null;
  error: { code: string; message: string } | null;
  incompleteDetails: { reason: 'max_output_tokens' } | null;
  /** Unix seconds; only once completed. */
  completedAt: number | null;
}

/**
 * Ids of a response and its items. They derive from the request id (32 hex digits), so logs,
 * headers and bodies line up, and an item's id names its response: an `item_reference` finds it
 * with one lookup (see {@link responseIdOfItem}).
 */
export class ResponseIds {
  readonly key: string;

  constructor(requestId: string) {
    this.key = requestId.replace(/^req_/, '');
  }

  get response(): string {
    return `resp_${this.key}`;
  }

  /** The id of output item `index`: `msg_...` or `fc_...`, then the response key and the index. */
  item(kind: 'msg' | 'fc', index: number): string {
    return `${kind}_${this.key}${index.toString(16).padStart(4, '0')}`;
  }
}

/** The id of the response an output item id belongs to, or null for an id Marquee never made. */
export function responseIdOfItem(itemId: string): string | null {
  const match = /^(?:msg|fc)_([0-9a-f]{32})[0-9a-f]{4}$/.exec(itemId);
  return match ? `resp_${match[1]}` : null;
}

/** The request fields a response echoes (absent ones get OpenAI's defaults). */
export type EchoedSettings = Partial<
  Pick<
    ResponseRequest,
    | 'instructions'
    | 'user'
    | 'safety_identifier'
    | 'max_output_tokens'
    | 'max_tool_calls'
    | 'parallel_tool_calls'
    | 'previous_response_id'
    | 'store'
    | 'temperature'
    | 'text'
    | 'tool_choice'
    | 'tools'
    | 'top_p'
    | 'metadata'
  >
>;

/** The response object of a request in state `state`: OpenAI's fields, in OpenAI's order. */
export type ResponseObject = ReturnType<ResponseEnvelope['object']>;

/**
 * The part of the response object the request decides (its settings, echoed with OpenAI's
 * defaults filled in), which every event and the stored body share.
 */
export class ResponseEnvelope {
  constructor(
    readonly id: string,
    readonly createdAt: number,
    readonly model: string,
    private readonly request: EchoedSettings,
  ) {}

  object(state: ResponseState) {
    const r = this.request;
    return {
      id: this.id,
      object: 'response' as const,
      created_at: this.createdAt,
      status: state.status,
      background: false,
      completed_at: state.completedAt,
      error: state.error,
      incomplete_details: state.incompleteDetails,
      instructions: r.instructions ?? null,
      max_output_tokens: r.max_output_tokens ?? null,
      max_tool_calls: r.max_tool_calls ?? null,
      model: this.model,
      output: state.output,
      parallel_tool_calls: r.parallel_tool_calls ?? true,
      previous_response_id: r.previous_response_id ?? null,
      prompt_cache_key: null,
      reasoning: { effort: null, summary: null },
      safety_identifier: r.safety_identifier ?? null,
      service_tier: 'default' as const,
      store: r.store ?? true,
      temperature: r.temperature ?? 1,
      text: { format: r.text?.format ?? { type: 'text' }, verbosity: 'medium' },
      tool_choice: r.tool_choice ?? 'auto',
      tools: (r.tools ?? []).map((t) => ({
        type: 'function' as const,
        name: t.name,
        description: t.description ?? null,
        parameters: t.parameters ?? null,
        strict: t.strict ?? true,
      })),
      top_logprobs: 0,
      top_p: r.top_p ?? 1,
      truncation: 'disabled' as const,
      usage: state.usage,
      user: r.user ?? null,
      metadata: r.metadata ?? {},
    };
  }
}

/** An output item as the next response's model sees it (see {@link ConversationItem}). */
export function conversationItemOf(item: OutputItem): ConversationItem {
  return item.type === 'message'
    ? {
        type: 'message',
        role: 'assistant',
        content: item.content.map((c) => c.text).join(''),
      }
    : {
        type: 'function_call',
        call_id: item.call_id,
        name: item.name,
        arguments: item.arguments,
      };
}
