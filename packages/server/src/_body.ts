/**
 * Reading request bodies within a size limit: a declared `Content-Length` over the limit is
 * refused before a byte is read, and a chunked body is counted as it streams in, so an oversized
 * body costs at most the limit in memory. Malformed JSON is a 400, never a crash; JSON nested
 * deeper than {@link MAX_JSON_DEPTH} levels is a 422 before it is parsed, because what the server
 * parses it may also have to serialise again, and `JSON.stringify` recurses: about 4,000 levels
 * (8 KB of brackets) overflow its stack.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from './_http-error.js';

function tooLarge(max: number): HttpError {
  return new HttpError(413, `Request body exceeds ${max} bytes`);
}

/**
 * Reads the whole body as bytes: from Node's `IncomingMessage` when there is one (several times
 * faster than the web stream over it), else from the web-standard request.
 * @param request - The request.
 * @param max - Largest accepted size in bytes.
 * @param incoming - The Node request under it, when served by `startServer`.
 * @returns The body (empty when there is none).
 * @throws HttpError 413 when the body is larger than `max`; 400 when the stream fails.
 */
export function readBody(request: Request, max: number, incoming?: IncomingMessage): Promise<Uint8Array> {
  if (incoming !== undefined) {
    const declared = incoming.headers['content-length'];
    if (declared !== undefined && Number(declared) > max) return Promise.reject(tooLarge(max));
    return readIncoming(incoming, max);
  }
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > max) return Promise.reject(tooLarge(max));
  return readStream(request, max);
}

function readIncoming(incoming: IncomingMessage, max: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const gone = () =>
      reject(new HttpError(400, 'The client closed the connection before sending the whole body'));
    // The client may have gone while the request waited (an injected latency): the stream is then
    // destroyed, its buffered body discarded and its 'close' already fired, so without this check
    // the read would wait forever.
    if (incoming.destroyed) {
      gone();
      return;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > max) {
        incoming.off('data', onData);
        // Keep draining (and dropping) the rest, so that the 413 can still be written.
        incoming.resume();
        reject(tooLarge(max));
      } else chunks.push(chunk);
    };
    incoming.on('data', onData);
    // One chunk is the usual case; for more, Buffer.concat with the known total allocates the
    // result once and copies each chunk into it (what a preallocated buffer would do by hand).
    incoming.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total)));
    incoming.once('error', () => reject(new HttpError(400, 'Could not read the request body')));
    incoming.once('close', () => {
      if (!incoming.readableEnded) gone();
    });
  });
}

async function readStream(request: Request, max: number): Promise<Uint8Array> {
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > max) {
        await reader.cancel().catch(() => {});
        throw tooLarge(max);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof HttpError) throw e;
    throw new HttpError(400, 'Could not read the request body');
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Deepest nesting of arrays and objects a request body may have (the body itself is level 1),
 * and the deepest a stored value may have to be handed back as JSON rather than as text.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether JSON text nests arrays and objects deeper than `max`, counted without parsing (brackets
 * inside strings do not count; the text need not be valid JSON).
 * @param text - JSON text.
 * @param max - The deepest nesting allowed.
 * @returns True when some bracket opens level `max + 1`.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash escapes the next character, a quote included
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * Parses a body as a JSON object.
 * @param bytes - The body.
 * @param optional - When true, an empty body is `{}`.
 * @returns The object.
 * @throws HttpError 400 for an empty body (unless optional), invalid UTF-8 or malformed JSON;
 *   422 when the JSON nests deeper than {@link MAX_JSON_DEPTH} levels or is not an object.
 */
export function parseJsonObject(bytes: Uint8Array, optional = false): Record<string, unknown> {
  if (bytes.length === 0) {
    if (optional) return {};
    throw new HttpError(400, 'Request body is required');
  }
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new HttpError(400, 'Request body is not valid JSON');
  }
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new HttpError(422, `Request body nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'Request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(422, 'Request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}
