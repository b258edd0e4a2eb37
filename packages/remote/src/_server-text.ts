/**
 * What of a server's error body may reach a `VaultError`: the message field of a JSON error
 * body, and nothing else. A proxy or a misbehaving server may echo the request (headers, body)
 * in its answer; errors are logged, so server text is treated as tainted:
 *
 * - Only JSON bodies are read, and only `error` (Vault's field), `message`, or `error.message`
 *   when `error` is an object. An HTML page, plain text or any other field is never quoted.
 * - The request's secrets (the API key, an object's value) are redacted from it: every run of
 *   {@link MIN_RUN} or more characters that also occurs in a secret (raw, JSON-escaped or
 *   percent-encoded: the forms an echo takes), and every occurrence of a secret shorter than
 *   that, becomes `[redacted]`. Runs, not only whole occurrences, because an echo may be cut.
 * - It is bounded to {@link MAX_SERVER_MESSAGE} characters, and control characters become
 *   spaces, so that a message can not forge lines in a log.
 * @module
 */

/** Longest server message kept: enough for a diagnosis, not for an echoed payload. */
export const MAX_SERVER_MESSAGE = 300;

/** Shortest run of a secret's characters that is redacted wherever it appears. */
export const MIN_RUN = 8;

const REDACTED = '[redacted]';

// biome-ignore lint/suspicious/noControlCharactersInRegex: replacing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/g;

/** The message field of a JSON error body, or `undefined`. */
function messageField(text: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined; // not JSON: never quoted (it may be a page that echoes the request)
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const { error, message } = body as Record<string, unknown>;
  if (typeof error === 'string') return error;
  if (typeof message === 'string') return message;
  if (typeof error === 'object' && error !== null) {
    const nested = (error as Record<string, unknown>)['message'];
    if (typeof nested === 'string') return nested;
  }
  return undefined;
}

/** The forms in which a secret may appear in an echo of the request. */
function formsOf(secret: string): string[] {
  const forms = new Set<string>([secret, JSON.stringify(secret).slice(1, -1)]);
  try {
    forms.add(encodeURIComponent(secret));
  } catch {
    // a lone surrogate has no percent-encoding (and the client never sends one)
  }
  return [...forms];
}

/** Marks in `marks` every run of `text` of `run` characters that occurs in `form`. */
function markRuns(text: string, form: string, run: number, marks: Uint8Array): void {
  if (form.length < run || text.length < run) return;
  // The windows of `text` (a few hundred) go into a map by hash; `form` (which may be a large
  // value) is then scanned once with a rolling hash, so the cost is linear in both.
  const B = 31;
  let high = 1; // B^(run-1) mod 2^32
  for (let i = 1; i < run; i++) high = Math.imul(high, B);
  const windows = new Map<number, number[]>();
  let h = 0;
  for (let i = 0; i < text.length; i++) {
    if (i >= run) h = (h - Math.imul(text.charCodeAt(i - run), high)) | 0;
    h = (Math.imul(h, B) + text.charCodeAt(i)) | 0;
    if (i >= run - 1) {
      const at = windows.get(h);
      if (at === undefined) windows.set(h, [i - run + 1]);
      else at.push(i - run + 1);
    }
  }
  h = 0;
  for (let i = 0; i < form.length; i++) {
    if (i >= run) h = (h - Math.imul(form.charCodeAt(i - run), high)) | 0;
    h = (Math.imul(h, B) + form.charCodeAt(i)) | 0;
    if (i < run - 1) continue;
    const at = windows.get(h);
    if (at === undefined) continue;
    const start = i - run + 1;
    for (const p of at) {
      if (text.startsWith(form.slice(start, start + run), p)) marks.fill(1, p, p + run);
    }
  }
}

/**
 * Replaces in `text` every run of {@link MIN_RUN} or more characters that occurs in one of the
 * secrets, and every occurrence of a shorter secret, by `[redacted]`.
 * @param text - Server text.
 * @param secrets - The request's secrets.
 * @returns The text without them.
 */
export function redact(text: string, secrets: readonly string[]): string {
  const marks = new Uint8Array(text.length);
  let any = false;
  for (const secret of secrets) {
    if (secret === '') continue;
    for (const form of formsOf(secret)) {
      if (form.length >= MIN_RUN) {
        markRuns(text, form, MIN_RUN, marks);
      } else {
        for (let at = text.indexOf(form); at !== -1; at = text.indexOf(form, at + 1)) {
          marks.fill(1, at, at + form.length);
        }
      }
    }
  }
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (marks[i] === 1) {
      any = true;
      if (i === 0 || marks[i - 1] !== 1) out += REDACTED;
    } else {
      out += text[i];
    }
  }
  return any ? out : text;
}

/**
 * The server message of an error body, fit to quote: the JSON message field, redacted, bounded,
 * without control characters.
 * @param text - The response body.
 * @param secrets - The request's secrets (the API key, an object's value).
 * @returns The message, or `undefined` when there is none to quote.
 */
export function serverMessageOf(text: string, secrets: readonly string[]): string | undefined {
  if (text === '') return undefined;
  const field = messageField(text);
  if (field === undefined) return undefined;
  // Redact a little more than what is kept, so that a secret cut by the bound is still found.
  const head = field.slice(0, MAX_SERVER_MESSAGE + MIN_RUN);
  return redact(head, secrets).slice(0, MAX_SERVER_MESSAGE).replace(CONTROL, ' ');
}
