/**
 * Dropped connections (fault injection): the pipeline answers a dropped request with a marker
 * response, and the handler's `fetch` turns that marker into a destroyed socket under
 * `startServer`, or, in process, into the `TypeError` that `fetch` rejects with when a
 * connection breaks. The marker is kept in a WeakSet, not a header: reading `headers` would make
 * `@hono/node-server` build a `Headers` object for every answer.
 * @module
 */
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { RequestState } from './_context.js';
import type { NodeBindings } from './options.js';

/** The dropped answers of one handler. */
export class Drops {
  readonly #dropped = new WeakSet<Response>();

  /**
   * Marks a request as dropped.
   * @param state - The request.
   * @returns The marker answer.
   */
  answer(state: RequestState): Response {
    state.dropped = true;
    const res = new Response(null, { status: 599 });
    this.#dropped.add(res);
    return res;
  }

  /**
   * Settles an answer of the pipeline: a marker destroys the connection.
   * @param res - The answer.
   * @param env - The Node bindings, under `startServer`.
   * @returns The answer to send (for a dropped one under `startServer`, none).
   * @throws TypeError `fetch failed` for a dropped answer in process.
   */
  settle(res: Response, env: NodeBindings | undefined): Response {
    if (!this.#dropped.has(res)) return res;
    if (env?.incoming?.socket !== undefined) {
      env.incoming.socket.destroy();
      return RESPONSE_ALREADY_SENT;
    }
    throw new TypeError('fetch failed', { cause: new Error('connection dropped by fault injection') });
  }
}
