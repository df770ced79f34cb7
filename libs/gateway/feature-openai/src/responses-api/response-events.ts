import { toolCallId } from '../responses/response-format';
import {
  type ToolCallEvent,
  ToolCallParser,
} from '../responses/tool-call-parser';
import {
  type OutputItem,
  type OutputText,
  type ResponseEnvelope,
  type ResponseIds,
  type ResponseObject,
  type ResponseState,
  responseUsage,
} from './response-object';

/** One streaming event: `type` (also the SSE `event:` name), its order, and its fields. */
export interface StreamEvent {
  type: string;
  sequence_number: number;
  [field: string]: unknown;
}

/** One event as a Server-Sent Event: its type as the event name, itself as the data. */
export function sseFrame(event: StreamEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** How a run ended, as the sequence needs it. */
export type RunEnd =
  | {
      kind: 'finished';
      finishReason: string;
      promptTokens: number;
      completionTokens: number;
    }
  | {
      kind: 'failed';
      code: string;
      message: string;
      promptTokens: number;
      completionTokens: number;
    };

const emptyText = (): OutputText => ({
  type: 'output_text',
  text: '',
  annotations: [],
  logprobs: [],
});

/**
 * Turns a run's text into the Responses API's output items and streaming events, in the order
 * OpenAI sends them: `response.created`, `response.in_progress`, then per item
 * `output_item.added`, (`content_part.added`, `output_text.delta`..., `output_text.done`,
 * `content_part.done` | `function_call_arguments.delta`..., `function_call_arguments.done`),
 * `output_item.done`, and last `response.completed` / `response.incomplete` / `response.failed`
 * with the whole response. The JSON answer is the last event's response, so both agree.
 *
 * With `toolCalls`, text is read by the {@link ToolCallParser}: calls become `function_call`
 * items; whitespace is held until it is clear it belongs to a message.
 */
export class ResponseEventSequence {
  private sequence = 0;
  private readonly output: OutputItem[] = [];
  /** The item being written, if any (always the last of `output`). */
  private open: OutputItem | null = null;
  private readonly parser: ToolCallParser | null;
  private held = '';

  constructor(
    private readonly envelope: ResponseEnvelope,
    private readonly ids: ResponseIds,
    toolCalls: boolean,
  ) {
    this.parser = toolCalls ? new ToolCallParser() : null;
  }

  /** `response.created` and `response.in_progress`. */
  start(): StreamEvent[] {
    const response = this.response(this.state('in_progress'));
    return [
      this.event('response.created', { response }),
      this.event('response.in_progress', { response }),
    ];
  }

  /** Events for more of the model's text. */
  text(text: string): StreamEvent[] {
    if (!text) return [];
    if (!this.parser) return this.content(text);
    return this.parsed(this.parser.push(text));
  }

  /** The closing events; the last one carries the final response (see {@link final}). */
  end(end: RunEnd): StreamEvent[] {
    const events = this.parser ? this.parsed(this.parser.flush()) : [];
    if (end.kind === 'failed') {
      events.push(...this.close('incomplete'));
      const response = this.response({
        ...this.state('failed'),
        error: { code: end.code, message: end.message },
        usage: responseUsage(end.promptTokens, end.completionTokens),
      });
      events.push(this.event('response.failed', { response }));
      return events;
    }
    const truncated = end.finishReason === 'length';
    // No item yet (whitespace at most): the answer is a message, even an empty one. Whitespace
    // held after a call is dropped.
    if (this.output.length === 0) events.push(...this.content(this.held, true));
    events.push(...this.close(truncated ? 'incomplete' : 'completed'));
    const response = this.response({
      ...this.state(truncated ? 'incomplete' : 'completed'),
      usage: responseUsage(end.promptTokens, end.completionTokens),
      incompleteDetails: truncated ? { reason: 'max_output_tokens' } : null,
      completedAt: truncated ? null : Math.floor(Date.now() / 1000),
    });
    events.push(
      this.event(truncated ? 'response.incomplete' : 'response.completed', {
        response,
      }),
    );
    return events;
  }

  private parsed(parsed: ToolCallEvent[]): StreamEvent[] {
    const events: StreamEvent[] = [];
    for (const e of parsed) {
      if (e.type === 'content') events.push(...this.content(e.text));
      else if (e.type === 'call') {
        this.held = '';
        events.push(...this.close('completed'), ...this.openCall(e.name));
      } else events.push(...this.callArguments(e.text));
    }
    return events;
  }

  // Text of the answer: into the open message, or a new one.
  private content(text: string, force = false): StreamEvent[] {
    if (this.parser && !force && this.open?.type !== 'message') {
      // Whitespace alone may precede a call: held until text follows.
      this.held += text;
      if (!this.held.trim()) return [];
      text = this.held;
    }
    this.held = '';
    const events: StreamEvent[] = [];
    if (this.open?.type !== 'message') {
      events.push(...this.close('completed'));
      const item: OutputItem = {
        type: 'message',
        id: this.ids.item('msg', this.output.length),
        status: 'in_progress',
        role: 'assistant',
        content: [],
      };
      events.push(...this.add(item));
      const part = emptyText();
      events.push(
        this.event('response.content_part.added', {
          item_id: item.id,
          output_index: this.output.length - 1,
          content_index: 0,
          part: { ...part },
        }),
      );
      item.content.push(part);
    }
    const message = this.open as Extract<OutputItem, { type: 'message' }>;
    if (text) {
      message.content[0].text += text;
      events.push(
        this.event('response.output_text.delta', {
          item_id: message.id,
          output_index: this.output.length - 1,
          content_index: 0,
          delta: text,
          logprobs: [],
        }),
      );
    }
    return events;
  }

  private openCall(name: string): StreamEvent[] {
    return this.add({
      type: 'function_call',
      id: this.ids.item('fc', this.output.length),
      call_id: toolCallId(),
      name,
      arguments: '',
      status: 'in_progress',
    });
  }

  private callArguments(text: string): StreamEvent[] {
    const call = this.open;
    if (call?.type !== 'function_call') return [];
    call.arguments += text;
    return [
      this.event('response.function_call_arguments.delta', {
        item_id: call.id,
        output_index: this.output.length - 1,
        delta: text,
      }),
    ];
  }

  private add(item: OutputItem): StreamEvent[] {
    this.output.push(item);
    this.open = item;
    return [
      this.event('response.output_item.added', {
        output_index: this.output.length - 1,
        item: structuredClone(item),
      }),
    ];
  }

  // Ends the open item, if any, with `status`.
  private close(status: 'completed' | 'incomplete'): StreamEvent[] {
    const item = this.open;
    if (!item) return [];
    this.open = null;
    item.status = status;
    const output_index = this.output.length - 1;
    const events: StreamEvent[] = [];
    if (item.type === 'message') {
      const part = item.content[0];
      events.push(
        this.event('response.output_text.done', {
          item_id: item.id,
          output_index,
          content_index: 0,
          text: part.text,
          logprobs: [],
        }),
        this.event('response.content_part.done', {
          item_id: item.id,
          output_index,
          content_index: 0,
          part: structuredClone(part),
        }),
      );
    } else {
      events.push(
        this.event('response.function_call_arguments.done', {
          item_id: item.id,
          output_index,
          arguments: item.arguments,
        }),
      );
    }
    events.push(
      this.event('response.output_item.done', {
        output_index,
        item: structuredClone(item),
      }),
    );
    return events;
  }

  private state(status: ResponseState['status']): ResponseState {
    return {
      status,
      output: structuredClone(this.output),
      usage: null,
      error: null,
      incompleteDetails: null,
      completedAt: null,
    };
  }

  private response(state: ResponseState): ResponseObject {
    return this.envelope.object(state);
  }

  private event(type: string, fields: object): StreamEvent {
    return { type, sequence_number: this.sequence++, ...fields };
  }
}
