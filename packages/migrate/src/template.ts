/**
 * Templates that take a row's columns into a key context or a tenant: `{org_id}` is the value of
 * column `org_id`, `{{` and `}}` are literal braces, anything else is literal text. A key-context
 * template is a list of `name=template` entries (`organization_id={org_id}`), as the CLI's
 * `--context` takes them.
 *
 * A template is parsed once, its columns checked against the table before the first batch, and
 * then rendered per row. A row whose referenced column is NULL cannot be rendered: that row fails
 * alone (it is reported and left as it is).
 * @module
 */
import { atext, type KeyContext, validateKeyContext } from '@vault-envelope/core';
import { TemplateError } from './errors.js';

/** One part of a parsed template: literal text, or a column reference. */
type Part = { text: string } | { column: string };

/** A parsed template. */
export interface Template {
  /** The template as given. */
  readonly source: string;
  /** The columns it reads, in order of first use. */
  readonly columns: readonly string[];
  /**
   * Renders it for a row.
   * @param row - The row's values by column name.
   * @returns The text.
   * @throws RowError when a referenced column is NULL or holds bytes.
   */
  render(row: Readonly<Record<string, unknown>>): string;
}

/** A row that cannot be processed: it is reported by its key and left unchanged. */
export class RowError extends Error {
  /** @param message - Why; names columns, never values. */
  constructor(message: string) {
    super(message);
    this.name = 'RowError';
  }
}

/** A column value as template text. */
function textOf(value: unknown, column: string): string {
  if (value === null || value === undefined) throw new RowError(`column ${column} is NULL`);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  throw new RowError(
    `column ${column} holds ${value instanceof Uint8Array ? 'bytes' : typeof value}, not text`,
  );
}

/**
 * Parses a template.
 * @param source - `{column}` references in literal text; `{{` and `}}` for braces.
 * @param title - What the template is, for messages (`'--tenant'`).
 * @returns The parsed template.
 * @throws TemplateError when a brace is unbalanced or a reference is empty.
 * @example
 * ```ts
 * parseTemplate('{org_id}', 'tenant').render({ org_id: 'org_1' }); // 'org_1'
 * ```
 */
export function parseTemplate(source: string, title: string): Template {
  if (typeof source !== 'string') throw new TypeError(`${title} must be a string, got ${typeof source}`);
  const parts: Part[] = [];
  let text = '';
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '{' && source[i + 1] === '{') {
      text += '{';
      i++;
    } else if (c === '}' && source[i + 1] === '}') {
      text += '}';
      i++;
    } else if (c === '{') {
      const end = source.indexOf('}', i + 1);
      if (end === -1) throw new TemplateError(`${title} has a { without its }: ${source}`);
      const column = source.slice(i + 1, end);
      if (column.length === 0 || column.includes('{')) {
        throw new TemplateError(`${title} has an empty or nested {} reference: ${source}`);
      }
      if (text !== '') parts.push({ text });
      text = '';
      parts.push({ column });
      i = end;
    } else if (c === '}') {
      throw new TemplateError(`${title} has a } without its {: ${source} (write }} for a brace)`);
    } else {
      text += c;
    }
  }
  if (text !== '') parts.push({ text });
  const columns = [...new Set(parts.flatMap((p) => ('column' in p ? [p.column] : [])))];
  return {
    source,
    columns,
    render(row) {
      let out = '';
      for (const p of parts) out += 'column' in p ? textOf(row[p.column], p.column) : p.text;
      return out;
    },
  };
}

/** A parsed key-context template. */
export interface ContextTemplate {
  /** The entries as given. */
  readonly source: readonly string[];
  /** The columns it reads. */
  readonly columns: readonly string[];
  /**
   * Renders the key context of a row, checked against Vault's rules.
   * @throws RowError when a column is NULL or the rendered context breaks a rule.
   */
  render(row: Readonly<Record<string, unknown>>): KeyContext;
}

/**
 * Parses a key-context template: `name=template` entries, given as a list or separated by
 * commas (`organization_id={org_id},region=eu`).
 * @param entries - The entries.
 * @param title - For messages (`'--context'`).
 * @returns The parsed template.
 * @throws TemplateError on an entry without `=`, an empty or repeated name, a malformed template.
 * @example
 * ```ts
 * parseContextTemplate('organization_id={org_id}', 'context').render({ org_id: 'org_1' });
 * // { organization_id: 'org_1' }
 * ```
 */
export function parseContextTemplate(entries: string | readonly string[], title: string): ContextTemplate {
  const list = (typeof entries === 'string' ? [entries] : [...entries]).flatMap((e) => {
    if (typeof e !== 'string') throw new TypeError(`${title} entries must be strings, got ${typeof e}`);
    return e.split(',');
  });
  const parsed: [string, Template][] = [];
  for (const entry of list) {
    const eq = entry.indexOf('=');
    if (eq <= 0)
      throw new TemplateError(`${title} entry must be name=template, got ${entry || 'an empty entry'}`);
    const name = entry.slice(0, eq).trim();
    try {
      atext(name, `${title} name`, 1, 120);
    } catch (e) {
      throw new TemplateError((e as Error).message);
    }
    if (name.includes('{') || name.includes('}'))
      throw new TemplateError(`${title} name ${name} must not hold braces`);
    if (parsed.some(([n]) => n === name)) throw new TemplateError(`${title} names ${name} twice`);
    parsed.push([name, parseTemplate(entry.slice(eq + 1), `${title} ${name}`)]);
  }
  const columns = [...new Set(parsed.flatMap(([, t]) => t.columns))];
  return {
    source: list,
    columns,
    render(row) {
      const ctx: Record<string, string> = {};
      for (const [name, t] of parsed) ctx[name] = t.render(row);
      try {
        return validateKeyContext(ctx);
      } catch (e) {
        throw new RowError(`the key context of this row breaks a rule: ${(e as Error).message}`);
      }
    },
  };
}
