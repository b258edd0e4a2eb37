/**
 * Type-checks composed documentation blocks with the workspace's TypeScript, in one program and
 * in memory, and transpiles runnable ones to JavaScript for Node 20 (which cannot strip types).
 *
 * The blocks are compiled as if they were files of the `examples` package (virtual files under
 * `examples/`, never written): that package depends on every `@vault-envelope/*` package and on
 * better-sqlite3, as a user's application would, so each import resolves the way it does for a
 * user: through the package's `exports` map to its built `dist/*.d.ts`. better-sqlite3 ships no
 * types; its `@types` package is a development dependency of the server package, and a `paths`
 * entry points there.
 * @module
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import ts from 'typescript';
import { ROOT } from './_blocks.js';

/**
 * The compiler: the workspace's, or the `typescript` package at `DOCS_TYPESCRIPT` (a path), to
 * check the blocks with another version by hand, e.g. after
 * `npm i --prefix /tmp/ts50 typescript@5.0`: `DOCS_TYPESCRIPT=/tmp/ts50/node_modules/typescript
 * npx vitest run --project docs`. The default run needs no network and uses the workspace's.
 */
const tsc: typeof ts = process.env['DOCS_TYPESCRIPT']
  ? createRequire(import.meta.url)(process.env['DOCS_TYPESCRIPT'])
  : ts;

/** The version of the compiler in use. */
export const TYPESCRIPT_VERSION: string = tsc.version;

/** Where the virtual block files sit: inside the examples package, so its dependencies resolve. */
export const VIRTUAL_DIR = `${ROOT}examples/.docs-blocks/`;

const BETTER_SQLITE3_TYPES = `${ROOT}packages/server/node_modules/@types/better-sqlite3/index.d.ts`;

/**
 * The compiler options: the repository's `tsconfig.base.json` (strict,
 * `exactOptionalPropertyTypes`, `noUncheckedIndexedAccess`, `verbatimModuleSyntax`, NodeNext),
 * with no output, Node's types, every file a module, and unused names allowed (a snippet's last
 * `const` is there to be read by a person, not by more code).
 * @returns The options.
 * @throws Error when the base config does not parse.
 */
export function compilerOptions(): ts.CompilerOptions {
  const read = tsc.readConfigFile(`${ROOT}tsconfig.base.json`, tsc.sys.readFile);
  if (read.error) throw new Error(tsc.flattenDiagnosticMessageText(read.error.messageText, '\n'));
  const parsed = tsc.parseJsonConfigFileContent(read.config, tsc.sys, ROOT);
  if (!existsSync(BETTER_SQLITE3_TYPES)) throw new Error(`missing ${BETTER_SQLITE3_TYPES}: run pnpm install`);
  return {
    ...parsed.options,
    composite: false,
    declaration: false,
    declarationMap: false,
    sourceMap: false,
    incremental: false,
    noEmit: true,
    noUnusedLocals: false,
    noUnusedParameters: false,
    moduleDetection: tsc.ModuleDetectionKind.Force,
    types: ['node'],
    paths: { 'better-sqlite3': [BETTER_SQLITE3_TYPES] },
  };
}

/** One diagnostic, located in the virtual file. */
export interface Problem {
  /** 1-based line in the composed source, or 0 for a diagnostic without a position. */
  line: number;
  code: number;
  message: string;
}

/**
 * Type-checks many modules in one program.
 * @param sources - Module name (a file name without directory, e.g. `readme-1.ts`) to source text.
 * @returns The problems of each module, and those of the program as a whole (`''`).
 */
export function typeCheck(sources: ReadonlyMap<string, string>): Map<string, Problem[]> {
  const options = compilerOptions();
  const host = tsc.createCompilerHost(options, true);
  const virtual = new Map([...sources].map(([name, text]) => [`${VIRTUAL_DIR}${name}`, text]));
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (fileName, language, onError, create) => {
    const text = virtual.get(fileName);
    if (text !== undefined) return tsc.createSourceFile(fileName, text, language, true);
    return getSourceFile.call(host, fileName, language, onError, create);
  };
  host.fileExists = (fileName) => virtual.has(fileName) || fileExists.call(host, fileName);
  host.readFile = (fileName) => virtual.get(fileName) ?? readFile.call(host, fileName);
  const program = tsc.createProgram([...virtual.keys()], options, host);
  const out = new Map<string, Problem[]>();
  const general = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
  out.set('', general.map(problem));
  for (const [name] of sources) {
    const file = program.getSourceFile(`${VIRTUAL_DIR}${name}`);
    if (!file) throw new Error(`the program lost ${name}`);
    out.set(
      name,
      [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)].map(problem),
    );
  }
  return out;
}

function problem(d: ts.Diagnostic): Problem {
  const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
  return { line, code: d.code, message: tsc.flattenDiagnosticMessageText(d.messageText, ' ') };
}

/**
 * Transpiles one module for Node 20: ES2022, ES modules, types removed, nothing else changed.
 * @param source - TypeScript source.
 * @param fileName - For messages.
 * @returns JavaScript source.
 */
export function transpile(source: string, fileName: string): string {
  return tsc.transpileModule(source, {
    fileName,
    reportDiagnostics: false,
    compilerOptions: {
      target: tsc.ScriptTarget.ES2022,
      module: tsc.ModuleKind.ESNext,
      verbatimModuleSyntax: true,
      moduleDetection: tsc.ModuleDetectionKind.Force,
    },
  }).outputText;
}
