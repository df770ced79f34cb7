import { readFileSync } from 'node:fs';
// A namespace import: webpack rewrites calls of an imported `createRequire` into its own
// module system (to `undefined` for a computed path), which would break the built worker.
import * as nodeModule from 'node:module';
import { dirname } from 'node:path';
import { runInThisContext } from 'node:vm';
import type * as XGrammarModule from '@mlc-ai/web-xgrammar';

/** The classes `@mlc-ai/web-xgrammar` exports. */
export type XGrammar = typeof XGrammarModule;

/** One instance of XGrammar's WASM module: its classes, its heap and what its C++ last printed. */
export interface XGrammarRuntime {
  readonly xg: XGrammar;
  /** Size of the WASM linear memory, in bytes (it grows, never shrinks); 0 before first use. */
  heapBytes(): number;
  /**
   * The last `[FATAL] ...` line the C++ printed, cleared by reading it. XGrammar's checks print
   * their reason and then abort; the thrown error only says `Aborted()`.
   */
  takeFatal(): string | undefined;
}

const BUNDLE = '@mlc-ai/web-xgrammar/lib/index.js';
const DYNAMIC_IMPORT = "await import('module')";

type BundleBody = (
  module: { exports: unknown },
  exports: unknown,
  require: NodeJS.Require,
  filename: string,
  dirname: string,
  console: Pick<Console, 'log' | 'warn' | 'error'>,
  webAssembly: WebAssemblyApi,
) => void;

// The slice of the WebAssembly API used here (the "es2023" lib has no WebAssembly types).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WebAssemblyApi {
  instantiate(...args: unknown[]): Promise<unknown>;
  Memory: abstract new (...args: never[]) => WasmMemory;
}

interface Bundle {
  body: BundleBody;
  file: string;
  /** The main context's WebAssembly (under Jest, module code sees a sandbox's). */
  wasm: WebAssemblyApi;
}

let bundle: Bundle | undefined;

/**
 * Starts a fresh, independent instance of XGrammar's WASM build.
 *
 * Its `lib/index.js` is a UMD bundle in a `"type": "module"` package: imported as ESM it exports
 * nothing, and Jest (CommonJS, no VM modules) cannot import ESM at all. So the file is read once
 * and run as a CommonJS module body (in the main context, `runInThisContext`), where the UMD
 * wrapper fills `module.exports`. That works the same under Jest, tsx and the webpack-built worker
 * (webpack externalises node_modules; the path is resolved at run time from this file's location).
 * Each call runs the body again, so each instance has its own WASM memory: an aborted C++ check
 * leaves its instance's stack pointer where it was, so a caller drops that instance.
 *
 * @param print where the C++ side's non-fatal output (warnings) goes.
 */
export function createXGrammarRuntime(
  print: (line: string) => void,
): XGrammarRuntime {
  bundle ??= loadBundle();
  const { body, file, wasm } = bundle;
  let memory: WasmMemory | undefined;
  let fatal: string | undefined;
  const output = (...args: unknown[]) => {
    const line = args.map(String).join(' ');
    if (line.startsWith('[FATAL]')) fatal = line;
    else if (line !== 'Aborted()') print(line);
  };
  // The Emscripten glue binds `console` and `WebAssembly` from its scope: shadowing them captures
  // the C++ messages and the instance's memory without touching the module's globals.
  const webAssembly = Object.create(wasm, {
    instantiate: {
      value: async (...args: unknown[]) => {
        const result = (await wasm.instantiate(...args)) as {
          instance: { exports: Record<string, unknown> };
        };
        memory = Object.values(result.instance.exports).find(
          (e): e is WasmMemory => e instanceof wasm.Memory,
        );
        return result;
      },
    },
  }) as WebAssemblyApi;
  const module = { exports: {} as Partial<XGrammar> };
  body(
    module,
    module.exports,
    nodeModule.createRequire(file),
    file,
    dirname(file),
    { log: output, warn: output, error: output },
    webAssembly,
  );
  const xg = module.exports;
  if (typeof xg.GrammarCompiler?.createGrammarCompiler !== 'function')
    throw new Error(
      `${file} did not export XGrammar's classes (exports: ${Object.keys(xg).join(', ') || 'none'})`,
    );
  return {
    xg: xg as XGrammar,
    heapBytes: () => memory?.buffer.byteLength ?? 0,
    takeFatal: () => {
      const line = fatal;
      fatal = undefined;
      return line;
    },
  };
}

function loadBundle(): Bundle {
  const file = nodeModule.createRequire(__filename).resolve(BUNDLE);
  const source = readFileSync(file, 'utf8');
  // The Emscripten glue's only ESM construct. A dynamic import would need the main context's
  // loader, still experimental (and warned about) in Node 20 and 22; `require` is at hand here.
  const parts = source.split(DYNAMIC_IMPORT);
  if (parts.length !== 2)
    throw new Error(
      `${file}: expected one \`${DYNAMIC_IMPORT}\` in XGrammar's bundle, found ${parts.length - 1}; was the package upgraded?`,
    );
  const body = runInThisContext(
    `(function (module, exports, require, __filename, __dirname, console, WebAssembly) {${parts.join("require('module')")}\n})`,
    { filename: file },
  ) as BundleBody;
  const wasm = runInThisContext('WebAssembly') as WebAssemblyApi;
  return { body, file, wasm };
}
