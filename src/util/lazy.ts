/**
 * Loads a module when it is first needed, and not before.
 *
 * `deno run` reads every module that a literal `import("./x.ts")` names (and all that module
 * imports) when it loads the importing module, whether or not the `import()` ever runs: a
 * literal dynamic import defers a module's evaluation, not its loading, which is most of its
 * cost. A command module that named its area that way would make every command, `--version`
 * included, load most of the program. So the command table and the command modules reach
 * their work through {@link lazy}, whose specifier Deno cannot follow ahead of time;
 * `scripts/compile.sh` includes every module of `src/` in the binary for the same reason.
 * @module
 */

// `src/`, as a URL with a trailing slash (resolved once; the first `new URL()` of a process
// costs a third of a millisecond, and a path under it needs none).
const SRC = import.meta.resolve("../");

/**
 * The module at `path` under `src/`. The type argument, a `typeof import()` of the same module
 * that costs nothing at run time, keeps the call checked (and the import-graph test keeps the
 * two paths the same): `lazy<typeof import("../server/run.ts")>("server/run.ts")`.
 */
export function lazy<T>(path: string): Promise<T> {
  return import(SRC + path);
}
