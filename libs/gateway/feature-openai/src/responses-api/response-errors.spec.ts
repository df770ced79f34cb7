import { ApiError } from '@marquee/gateway/util-http';
import { inResponsesTerms, responsesParam } from './response-errors';

describe('errors in the Responses API terms', () => {
  it.each([
    ['max_tokens', 'max_output_tokens'],
    ['messages', 'input'],
    ['response_format', 'text.format'],
    ['response_format.json_schema.schema', 'text.format.schema'],
    ['tools[2].function.parameters', 'tools[2].parameters'],
    ['tools.0.function.parameters', 'tools[0].parameters'],
    ['model', 'model'],
  ])('names chat parameter %s as %s', (chat, responses) => {
    expect(responsesParam(chat)).toBe(responses);
  });

  it('renames the parameter in the message that quotes it, keeping status and code', () => {
    const error = inResponsesTerms(
      ApiError.invalidRequest(
        "max_tokens is too large: 5000. This model's context length is 2048 tokens, prompt included.",
        'max_tokens',
        'invalid_value',
      ),
    );
    expect(error.toBody()).toEqual({
      error: {
        message:
          "max_output_tokens is too large: 5000. This model's context length is 2048 tokens, prompt included.",
        type: 'invalid_request_error',
        param: 'max_output_tokens',
        code: 'invalid_value',
      },
    });
    expect(error.status).toBe(400);
  });

  it('leaves an error without a parameter as it is', () => {
    const error = ApiError.modelNotFound('nope');
    expect(inResponsesTerms(ApiError.internal('req_1'))).toEqual(
      ApiError.internal('req_1'),
    );
    expect(inResponsesTerms(error)).toBe(error);
  });
});
