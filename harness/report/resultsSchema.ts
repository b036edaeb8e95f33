import { Ajv, type ErrorObject } from 'ajv';
import schemaJson from '../../schema/results.schema.json' with { type: 'json' };

/** The published JSON Schema of results.json (schema/results.schema.json). */
export const resultsSchema: Readonly<Record<string, unknown>> = schemaJson;

let compiled: ((data: unknown) => boolean) & { errors?: ErrorObject[] | null } | null = null;

/** Problems of a parsed results.json, one line each ("/tests/3/outcome must be ..."); empty when valid. */
export function resultsSchemaProblems(data: unknown): string[] {
  if (compiled === null) compiled = new Ajv({ allErrors: true, strict: true }).compile(resultsSchema);
  if (compiled(data)) return [];
  return (compiled.errors ?? [])
    // `if` only says its `then` failed; the `then` error says why.
    .filter((error) => error.keyword !== 'if')
    .map((error) => `${error.instancePath === '' ? '(top)' : error.instancePath} ${describe(error)}`);
}

function describe(error: ErrorObject): string {
  switch (error.keyword) {
    case 'additionalProperties': return `has unknown key "${String(error.params['additionalProperty'])}"`;
    case 'required': return `is missing "${String(error.params['missingProperty'])}"`;
    case 'enum': return `must be one of ${(error.params['allowedValues'] as unknown[]).join(', ')}`;
    default: return error.message ?? `fails ${error.schemaPath}`;
  }
}
