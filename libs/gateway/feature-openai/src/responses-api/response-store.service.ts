import { Injectable } from '@nestjs/common';
import {
  type StoredResponseRecord,
  StoredResponseRepository,
} from '@marquee/gateway/data-access-db';
import { ApiError } from '@marquee/gateway/util-http';
import type { ConversationItem, ItemLookup } from './conversation';
import {
  type OutputItem,
  type ResponseObject,
  conversationItemOf,
  responseIdOfItem,
} from './response-object';

/** A stored response's JSON, as this service wrote it. */
const kept = (row: StoredResponseRecord) => ({
  body: row.body as ResponseObject,
  conversation: row.conversation as ConversationItem[],
});

/** OpenAI's answer for a response id the caller has no response of. */
export function responseNotFound(id: string): ApiError {
  return new ApiError(
    404,
    'invalid_request_error',
    `Response with id '${id}' not found.`,
  );
}

/**
 * The tenant's stored responses, for retrieval, deletion, `previous_response_id` and
 * `item_reference`. Another tenant's response is never found: it looks exactly like a missing one.
 */
@Injectable()
export class ResponseStore {
  constructor(private readonly responses: StoredResponseRepository) {}

  /** Keeps `body` and the conversation it answered, for the tenant. */
  async save(
    tenantId: string,
    body: ResponseObject,
    conversation: readonly ConversationItem[],
  ): Promise<void> {
    await this.responses.create({
      id: body.id,
      tenantId,
      body,
      conversation,
    });
  }

  /** The stored response object (404 when the tenant has none of that id). */
  async get(tenantId: string, id: string): Promise<ResponseObject> {
    const row = await this.responses.find(tenantId, id);
    if (!row) throw responseNotFound(id);
    return kept(row).body;
  }

  /** Deletes the tenant's response `id` (404 when there is none). */
  async delete(tenantId: string, id: string): Promise<void> {
    if (!(await this.responses.delete(tenantId, id)))
      throw responseNotFound(id);
  }

  /**
   * The conversation a response continues, as `previous_response_id` asks: the previous
   * response's conversation, then its output. Its instructions do not carry over.
   */
  async continuing(tenantId: string, id: string): Promise<ConversationItem[]> {
    const row = await this.responses.find(tenantId, id);
    if (!row)
      throw new ApiError(
        400,
        'invalid_request_error',
        `Previous response with id '${id}' not found.`,
        'previous_response_not_found',
        'previous_response_id',
      );
    const { body, conversation } = kept(row);
    return [...conversation, ...body.output.map(conversationItemOf)];
  }

  /** Finds output items of the tenant's responses by id, reading each response once. */
  itemLookup(tenantId: string): ItemLookup {
    const outputs = new Map<string, Promise<OutputItem[]>>();
    return async (itemId) => {
      const responseId = responseIdOfItem(itemId);
      if (responseId === null) return null;
      let output = outputs.get(responseId);
      if (!output) {
        output = this.responses
          .find(tenantId, responseId)
          .then((row) => (row ? kept(row).body.output : []));
        outputs.set(responseId, output);
      }
      const item = (await output).find((i) => i.id === itemId);
      return item ? conversationItemOf(item) : null;
    };
  }
}
