import { completionBudget } from './context-window';
import { InferenceError } from './inference-error';

const claim = { contextLength: 100, promptParam: 'messages' };

function rejection(fn: () => unknown): InferenceError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InferenceError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('completionBudget', () => {
  it('gives a request without max_tokens the rest of the window', () => {
    expect(completionBudget({ ...claim, promptTokens: 30 })).toBe(70);
  });

  it('gives max_tokens when prompt and completion fit exactly', () => {
    expect(
      completionBudget({ ...claim, promptTokens: 30, maxTokens: 70 }),
    ).toBe(70);
  });

  it('names max_tokens and both counts when the completion would overflow', () => {
    const error = rejection(() =>
      completionBudget({ ...claim, promptTokens: 30, maxTokens: 71 }),
    );
    expect(error).toMatchObject({
      code: 'context_length_exceeded',
      param: 'max_tokens',
    });
    expect(error.message).toContain('you requested 101 tokens');
    expect(error.message).toContain(
      '30 in the messages, 71 for the completion',
    );
  });

  it('names the prompt field when the prompt alone fills the window', () => {
    for (const maxTokens of [undefined, 1]) {
      const error = rejection(() =>
        completionBudget({ ...claim, promptTokens: 100, maxTokens }),
      );
      expect(error).toMatchObject({
        code: 'context_length_exceeded',
        param: 'messages',
      });
      expect(error.message).toContain('the messages alone has 100');
    }
  });
});
