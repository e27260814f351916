/**
 * Loads a module when it is first needed, and not before.
 *
 * `deno run` reads every module that a literal `import("./x.ts")` names (and all that module
 * imports) when it loads the importing module, whether or not the `import()` ever runs: a
 * literal dynamic import defers a module's evaluation, not its loading, which is most of its
 * cost. A command module that named its area that way would make every command, `--version`
 * included, load the whole program. So the command table and the command modules reach their
 * work through {@link lazy}, whose specifier Deno cannot follow ahead of time; `scripts/compile.sh`
 * includes every module of `src/` in the binary for the same reason. The type argument, a
 * `typeof import()` that costs nothing at run time, keeps the call checked.
 * @module
 */

/**
 * The module at `url` (resolve it against the caller's `import.meta.url`):
 * `await lazy<typeof import("../server/run.ts")>(new URL("../server/run.ts", import.meta.url))`.
 */
export function lazy<T>(url: URL): Promise<T> {
  return import(url.href);
}
