import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { z } from 'zod';

/** Every error the API sends has this shape: a stable code, a sentence for people, and the parameter at fault. */
export const errorSchema = z.object({
  error: z.string().describe('stable code: bad_request, unauthorized, forbidden, not_found, conflict, too_many_requests, payload_too_large, timeout, unavailable, internal'),
  message: z.string(),
  field: z.string().optional().describe('the parameter at fault, e.g. query.from or params.id'),
});
export type ApiErrorBody = z.infer<typeof errorSchema>;

/** An error a route raises on purpose; the handler turns it into `{error, message, field?}`. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (field: string, message: string) => new ApiError(400, 'bad_request', `${field}: ${message}`, field);
export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);
export const forbidden = (message: string) => new ApiError(403, 'forbidden', message);

const CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  406: 'not_acceptable',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  503: 'unavailable',
  504: 'timeout',
};

/** Where fastify's validation context puts a parameter, as the client names it. */
const PART: Record<string, string> = { querystring: 'query', params: 'params', body: 'body', headers: 'headers' };

/** PostgreSQL cancelled the statement (statement_timeout). */
const isQueryTimeout = (err: unknown) => (err as { code?: string }).code === '57014';

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ApiError, request, reply) => {
    if (err instanceof ApiError) {
      const body: ApiErrorBody = { error: err.code, message: err.message };
      if (err.field) body.field = err.field;
      return reply.code(err.statusCode).send(body);
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issue = err.validation[0]!;
      const part = PART[err.validationContext ?? ''] ?? err.validationContext ?? 'request';
      const path = issue.instancePath.split('/').filter(Boolean);
      const field = [part, ...path].join('.');
      const message = issue.message ?? 'invalid';
      return reply.code(400).send({ error: 'bad_request', message: `${field}: ${message}`, field } satisfies ApiErrorBody);
    }
    if ((err as { code?: string }).code === 'FST_ERR_RESPONSE_SERIALIZATION' && isResponseSerializationError(err)) {
      request.log.error({ err: err.cause?.message, url: request.url }, 'response does not match its schema');
      return reply.code(500).send({ error: 'internal', message: 'the server built a response that does not match its schema' });
    }
    if (isQueryTimeout(err)) {
      return reply.code(504).send({ error: 'timeout', message: 'the query took too long; narrow the time range or use a wider bucket' });
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) {
      request.log.error({ err }, `request failed: ${err.message}`);
      return reply.code(status).send({ error: CODES[status] ?? 'internal', message: status === 500 ? 'internal error; the server log has the details' : err.message });
    }
    // Fastify's own client errors (body too large, bad JSON, wrong content type, rate limit).
    return reply.code(status).send({ error: CODES[status] ?? 'bad_request', message: err.message });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` });
  });
}
