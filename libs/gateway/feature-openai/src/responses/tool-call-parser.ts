import { TOOL_CALL } from '@marquee/shared/tokenization';

/**
 * What a piece of generated text holds once tool calls are taken out of it: plain content, the
 * start of a call (its function name), or more of the current call's JSON arguments.
 */
export type ToolCallEvent =
  | { type: 'content'; text: string }
  | { type: 'call'; index: number; name: string }
  | { type: 'arguments'; index: number; text: string };

const OPEN = TOOL_CALL.beforeName;
const NAME_END = TOOL_CALL.beforeArguments;
const CLOSE = TOOL_CALL.end;

/**
 * Reads the calls out of a chat model's text as the worker's grammar shapes them (the Qwen2.5 /
 * Hermes format the chat template teaches):
 * `<tool_call>\n{"name": "NAME", "arguments": ARGS}\n</tool_call>`, calls separated by "\n".
 * Text is fed as it streams; arguments come out in fragments as soon as they arrive, and text
 * that may still turn into a call's opening is held back until it is clear. Text that breaks
 * the format is content.
 */
export class ToolCallParser {
  private state: 'content' | 'open' | 'name' | 'arguments' | 'close' =
    'content';
  /** Whitespace after a call, held until content follows (it is dropped before another call). */
  private gap = '';
  private pending = '';
  private name = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private calls = 0;

  /** Calls begun so far (a call whose end was cut off counts). */
  get callCount(): number {
    return this.calls;
  }

  push(text: string): ToolCallEvent[] {
    const events: ToolCallEvent[] = [];
    let i = 0;
    while (i < text.length) {
      if (this.state === 'arguments') {
        i = this.readArguments(text, i, events);
        continue;
      }
      this.pending += text[i++];
      this.step(events);
    }
    return merge(events);
  }

  /** The end of the text: anything held back is content (whitespace after a call is dropped). */
  flush(): ToolCallEvent[] {
    // A call cut off before its name ended is text again, opening included.
    const rest = (this.state === 'name' ? OPEN : '') + this.pending;
    this.pending = '';
    if (this.state !== 'arguments') this.state = 'content';
    const events: ToolCallEvent[] = [];
    this.content(rest, events);
    return events;
  }

  // Content after a call starts with the whitespace held since; whitespace alone is held.
  private content(text: string, events: ToolCallEvent[]): void {
    if (!text) return;
    if (this.calls > 0 && !text.trim()) {
      this.gap += text;
      return;
    }
    events.push({ type: 'content', text: this.gap + text });
    this.gap = '';
  }

  // One character was added to `pending` outside the arguments.
  private step(events: ToolCallEvent[]): void {
    const p = this.pending;
    switch (this.state) {
      case 'content':
      case 'open': {
        if (p === OPEN) {
          this.pending = '';
          this.gap = '';
          this.name = '';
          this.state = 'name';
        } else if (OPEN.startsWith(p)) {
          this.state = 'open';
        } else {
          // Not an opening after all: release everything up to a new possible start.
          const start = p.indexOf('<', 1);
          const keep =
            start >= 0 && OPEN.startsWith(p.slice(start)) ? start : p.length;
          this.content(p.slice(0, keep), events);
          this.pending = p.slice(keep);
          this.state = this.pending ? 'open' : 'content';
        }
        return;
      }
      case 'name': {
        if (p.endsWith(NAME_END)) {
          this.name = p.slice(0, -NAME_END.length);
          this.pending = '';
          this.depth = 0;
          this.inString = false;
          this.escaped = false;
          // A call counts from its name on, even if its end is cut off.
          events.push({ type: 'call', index: this.calls++, name: this.name });
          this.state = 'arguments';
        }
        return;
      }
      case 'close': {
        if (p === CLOSE) {
          this.pending = '';
          this.state = 'content';
        } else if (!CLOSE.startsWith(p)) {
          this.state = 'content';
          this.step(events);
        }
        return;
      }
      default:
        return;
    }
  }

  // Copies argument text until its top-level value closes; returns where reading stopped.
  private readArguments(
    text: string,
    from: number,
    events: ToolCallEvent[],
  ): number {
    let i = from;
    let done = false;
    for (; i < text.length && !done; i++) {
      const c = text[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
      } else if (c === '"') this.inString = true;
      else if (c === '{' || c === '[') this.depth++;
      else if (c === '}' || c === ']') done = --this.depth === 0;
    }
    if (i > from)
      events.push({
        type: 'arguments',
        index: this.calls - 1,
        text: text.slice(from, i),
      });
    if (done) this.state = 'close';
    return i;
  }
}

// Adjacent events of the same kind (and call) become one.
function merge(events: ToolCallEvent[]): ToolCallEvent[] {
  const out: ToolCallEvent[] = [];
  for (const e of events) {
    const last = out.at(-1);
    if (last?.type === 'content' && e.type === 'content') last.text += e.text;
    else if (
      last?.type === 'arguments' &&
      e.type === 'arguments' &&
      last.index === e.index
    )
      last.text += e.text;
    else out.push({ ...e });
  }
  return out;
}
