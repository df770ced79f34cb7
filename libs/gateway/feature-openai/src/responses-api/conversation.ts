import type { ChatTool, PromptPayload } from '@marquee/contracts/queue';
import { ApiError, paramName } from '@marquee/gateway/util-http';
import {
  type ChatMessageInput,
  chatPrompt,
} from '../schemas/chat-completion-request.schema';
import type { InputItem } from './response-request.schema';

/**
 * One item of a conversation as Marquee keeps it: a Responses input item with its content
 * flattened to the text the model sees. Stored with each response, so a later
 * `previous_response_id` continues from exactly what the model was given.
 */
export type ConversationItem =
  | {
      type: 'message';
      role: 'user' | 'system' | 'developer' | 'assistant';
      content: string;
    }
  | { type: 'function_call'; call_id: string; name: string; arguments: string }
  | { type: 'function_call_output'; call_id: string; output: string };

/** Finds an output item of one of the tenant's stored responses, by its id. */
export type ItemLookup = (id: string) => Promise<ConversationItem | null>;

const flatten = (content: string | readonly { text: string }[]) =>
  typeof content === 'string' ? content : content.map((p) => p.text).join('');

/**
 * The request's `input` as conversation items: a string is one user message; item references
 * are looked up (404 naming the item when the tenant has no such item).
 */
export async function conversationOf(
  input: string | readonly InputItem[],
  lookup: ItemLookup,
): Promise<ConversationItem[]> {
  if (typeof input === 'string')
    return [{ type: 'message', role: 'user', content: input }];
  const items: ConversationItem[] = [];
  for (const [i, item] of input.entries()) {
    switch (item.type) {
      case 'message':
        items.push({
          type: 'message',
          role: item.role,
          content: flatten(item.content),
        });
        break;
      case 'function_call':
        items.push({
          type: 'function_call',
          call_id: item.call_id,
          name: item.name,
          arguments: item.arguments,
        });
        break;
      case 'function_call_output':
        items.push({
          type: 'function_call_output',
          call_id: item.call_id,
          output: flatten(item.output),
        });
        break;
      case 'item_reference': {
        const found = await lookup(item.id);
        if (!found)
          throw new ApiError(
            404,
            'invalid_request_error',
            `Item with id '${item.id}' not found.`,
            null,
            paramName(['input', i, 'id']),
          );
        items.push(found);
        break;
      }
    }
  }
  return items;
}

/**
 * The chat messages the model sees: `instructions` first as a system message, then the items.
 * Consecutive function calls join the assistant turn before them (or open one), and each output
 * is a `tool` message answering its call, as chat completions has them.
 */
export function chatMessagesOf(
  instructions: string | undefined,
  items: readonly ConversationItem[],
): ChatMessageInput[] {
  const messages: ChatMessageInput[] = instructions
    ? [{ role: 'system', content: instructions }]
    : [];
  for (const item of items) {
    switch (item.type) {
      case 'message':
        messages.push({ role: item.role, content: item.content });
        break;
      case 'function_call': {
        const call = {
          id: item.call_id,
          type: 'function' as const,
          function: { name: item.name, arguments: item.arguments },
        };
        const last = messages.at(-1);
        if (last?.role === 'assistant')
          last.tool_calls = [...(last.tool_calls ?? []), call];
        else
          messages.push({
            role: 'assistant',
            content: null,
            tool_calls: [call],
          });
        break;
      }
      case 'function_call_output':
        messages.push({
          role: 'tool',
          content: item.output,
          tool_call_id: item.call_id,
        });
        break;
    }
  }
  return messages;
}

/** The worker's chat prompt for a conversation (400 on `input` when there is nothing to say). */
export function conversationPrompt(
  instructions: string | undefined,
  items: readonly ConversationItem[],
  tools: ChatTool[] | undefined,
): PromptPayload {
  const messages = chatMessagesOf(instructions, items);
  if (messages.length === 0)
    throw ApiError.invalidRequest(
      "Invalid value for 'input': there is nothing to respond to; send at least one item or 'instructions'.",
      'input',
      'invalid_value',
    );
  return chatPrompt(messages, tools);
}
