/**
 * How the pipeline writes an answer: JSON with the request id, `{"error": ...}` for a refusal,
 * and a generic 500 for anything else (which is a bug of ours, so it is logged; messages are ours
 * or SQLite's, never a value or a key, since none ever reaches an error message in this package).
 * @module
 */
import type { RequestState } from './_context.js';
import { HttpError } from './_http-error.js';

const JSON_HEADERS = { 'Content-Type': 'application/json' };

/**
 * A JSON answer with the request id. Headers are a plain record, which `@hono/node-server` writes
 * without building a `Headers` object.
 * @param state - The request.
 * @param status - The status.
 * @param text - The JSON body.
 * @param headers - More headers.
 * @returns The answer.
 */
export function jsonResponse(
  state: RequestState,
  status: number,
  text: string,
  headers: Record<string, string>,
): Response {
  state.stamped = true;
  return new Response(text, {
    status,
    headers: { ...JSON_HEADERS, 'X-Request-ID': state.id, ...headers },
  });
}

/**
 * The body of an error answer.
 * @param message - The client-facing message.
 * @returns `{"error": message}` as JSON.
 */
export function errorText(message: string): string {
  return JSON.stringify({ error: message });
}

/** Where a bug is reported: one line. */
export type ErrorSink = (state: RequestState, error: unknown) => void;

/**
 * Reports unexpected errors to the access log, or to stderr when there is none.
 * @param log - The access log, if any.
 * @returns The sink.
 */
export function errorSink(log: ((line: string) => void) | undefined): ErrorSink {
  const write = log ?? ((line: string) => process.stderr.write(`${line}\n`));
  return (state, e) => {
    const what = e instanceof Error ? `${e.name}: ${e.message}` : 'non-Error thrown';
    write(`${new Date().toISOString()} error ${state.id} ${what}`);
  };
}

/**
 * The answer to a failed request: the status and message of an {@link HttpError}, else a 500
 * (reported to `report`).
 * @param state - The request.
 * @param e - What was thrown.
 * @param report - Where an unexpected error goes.
 * @returns The answer, with the request's headers.
 */
export function failure(state: RequestState, e: unknown, report: ErrorSink): Response {
  if (e instanceof HttpError) {
    return jsonResponse(state, e.status, errorText(e.message), { ...state.headers, ...e.headers });
  }
  report(state, e);
  return jsonResponse(state, 500, errorText('Internal server error'), state.headers);
}
