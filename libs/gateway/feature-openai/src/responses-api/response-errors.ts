import { ApiError, paramName } from '@marquee/gateway/util-http';
import { responsesPath } from './structured-output-shapes';

/** Chat's names of the fields the Responses API calls otherwise. */
const RENAMED: Readonly<Record<string, string>> = {
  messages: 'input',
  max_tokens: 'max_output_tokens',
};

/**
 * A parameter named in chat completions' terms (by the shared runner, the worker or the grammar
 * compiler: `max_tokens`, `response_format.json_schema.schema`, `tools[0].function.parameters`)
 * as the Responses API calls it.
 */
export function responsesParam(param: string): string {
  const parts = param.split(/[.[\]]+/).filter(Boolean);
  if (parts.length === 0) return param;
  parts[0] = RENAMED[parts[0]] ?? parts[0];
  return paramName(responsesPath(parts));
}

/** `error` with its `param` (and a message quoting it) in the Responses API's terms. */
export function inResponsesTerms(error: ApiError): ApiError {
  if (error.param === null) return error;
  const param = responsesParam(error.param);
  if (param === error.param) return error;
  const message = error.message.split(error.param).join(param);
  return new ApiError(
    error.status,
    error.type,
    message,
    error.code,
    param,
    error.headers,
  );
}
