import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery } from '@nestjs/swagger';
import { z } from 'zod';

type JsonSchema = Record<string, unknown>;

/** The JSON Schema (OpenAPI 3.0 flavour) of what a zod schema accepts. */
export function openApiSchema(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, {
    io: 'input',
    target: 'openapi-3.0',
    unrepresentable: 'any',
  }) as JsonSchema;
}

/**
 * Documents a route in the OpenAPI document from the same zod schemas that validate it, so the
 * document cannot drift from the validation.
 */
export function ApiRoute(opts: {
  summary: string;
  description?: string;
  body?: z.ZodType;
  query?: z.ZodObject;
}) {
  const decorators = [
    ApiOperation({ summary: opts.summary, description: opts.description }),
  ];
  if (opts.body) decorators.push(ApiBody({ schema: openApiSchema(opts.body) }));
  if (opts.query) {
    const { properties = {}, required = [] } = openApiSchema(opts.query) as {
      properties?: Record<string, JsonSchema>;
      required?: string[];
    };
    for (const [key, schema] of Object.entries(properties)) {
      decorators.push(
        ApiQuery({ name: key, required: required.includes(key), schema }),
      );
    }
  }
  return applyDecorators(...decorators);
}
