import type {
  ChoiceFinishMessage,
  EmbeddingMessage,
  TokenLogprobMessage,
} from '@marquee/contracts/proto';

/** What the gateway learns about one request from the worker running it. */
export type RequestEvent =
  | {
      type: 'started';
      workerId: string;
      promptTokens: number;
      /** From the worker taking the job off its queue to its report, ms. */
      pickupMs: number;
    }
  | {
      type: 'tokens';
      choiceIndex: number;
      text: string;
      tokens: number;
      /** Present when the request asked for logprobs: one per token with text. */
      logprobs?: TokenLogprobMessage[];
    }
  | {
      type: 'finished';
      promptTokens: number;
      completionTokens: number;
      choices: ChoiceFinishMessage[];
      /** Embedding requests: one vector per input. */
      embeddings?: EmbeddingMessage[];
    }
  | {
      type: 'failed';
      code: string;
      message: string;
      param: string | null;
      promptTokens: number;
      completionTokens: number;
    };

/**
 * What a request's channel carries: its events, and `lost` when the worker running it went away
 * before anything was relayed to the client (its job goes back to the queue for another worker,
 * so the request goes on; the gateway's own business, never shown to the client).
 */
export type ChannelEvent = RequestEvent | { type: 'lost' };

/** The events that end a request. */
export type TerminalEvent = Extract<
  RequestEvent,
  { type: 'finished' | 'failed' }
>;

export function isTerminal(
  event: RequestEvent | ChannelEvent,
): event is TerminalEvent {
  return event.type === 'finished' || event.type === 'failed';
}
