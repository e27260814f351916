/**
 * The activation a pixi manifest adds to its environments (`[activation]` `scripts` and `env`,
 * for the default feature and the environment's own features), read from `pixi.toml` or
 * `pyproject.toml` without pixi. Only the TOML that these tables use is understood: tables,
 * `key = value` with strings (basic and literal), arrays of strings and inline tables of
 * strings; anything else is passed over.
 * @module
 */

/** What a manifest activates for one environment. */
export interface ManifestActivation {
  /** Script paths as written (relative to the workspace root), in order. */
  readonly scripts: string[];
  readonly env: [string, string][];
}

type Value = string | Value[] | { [k: string]: Value };

/** Reads one TOML value at `s[i]`; returns it and the index after it, or undefined. */
function readValue(s: string, i: number): [Value, number] | undefined {
  const skip = (j: number) => {
    while (j < s.length) {
      if (/\s|,/.test(s[j])) j++;
      else if (s[j] === "#") { while (j < s.length && s[j] !== "\n") j++; }
      else break;
    }
    return j;
  };
  i = skip(i);
  const c = s[i];
  if (c === "'") {
    const end = s.indexOf("'", i + 1);
    return end < 0 ? undefined : [s.slice(i + 1, end), end + 1];
  }
  if (c === '"') {
    let out = "";
    for (let j = i + 1; j < s.length; j++) {
      if (s[j] === '"') return [out, j + 1];
      if (s[j] !== "\\") {
        out += s[j];
        continue;
      }
      const e = s[++j];
      const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\" };
      if (e in simple) out += simple[e];
      else if (e === "u" || e === "U") {
        const n = e === "u" ? 4 : 8;
        out += String.fromCodePoint(parseInt(s.slice(j + 1, j + 1 + n), 16));
        j += n;
      } else return undefined;
    }
    return undefined;
  }
  if (c === "[" || c === "{") {
    const close = c === "[" ? "]" : "}";
    const items: Value[] = [];
    const table: Record<string, Value> = {};
    let j = i + 1;
    while (true) {
      j = skip(j);
      if (s[j] === close) return [c === "[" ? items : table, j + 1];
      if (j >= s.length) return undefined;
      if (c === "{") {
        const key = /^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.-]+)\s*=/.exec(s.slice(j));
        if (!key) return undefined;
        const v = readValue(s, j + key[0].length);
        if (!v) return undefined;
        table[key[1].replace(/^["']|["']$/g, "")] = v[0];
        j = v[1];
      } else {
        const v = readValue(s, j);
        if (!v) return undefined;
        items.push(v[0]);
        j = v[1];
      }
    }
  }
  // A bare value (number, boolean, date): up to the end of the line, kept as text.
  const end = s.slice(i).search(/[,\]}\n]/);
  return [s.slice(i, end < 0 ? undefined : i + end).trim(), end < 0 ? s.length : i + end];
}

/** The manifest as `table name → key → value` (dotted keys and headers joined with '.'). */
function readTables(text: string, prefix: string): Map<string, Record<string, Value>> {
  const tables = new Map<string, Record<string, Value>>();
  let current = "";
  let i = 0;
  while (i < text.length) {
    const line = text.slice(i, text.indexOf("\n", i) < 0 ? text.length : text.indexOf("\n", i));
    const header = /^\s*\[([^\[\]]+)\]\s*(#.*)?$/.exec(line);
    const key = /^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.-]+)\s*=/.exec(line);
    if (header) {
      current = header[1].trim().replace(/\s*\.\s*/g, ".");
      i += line.length + 1;
    } else if (key) {
      const v = readValue(text, i + key[0].length);
      if (!v) break;
      const name = key[1].replace(/^["']|["']$/g, "");
      const dot = name.lastIndexOf(".");
      const table = dot < 0 ? current : `${current ? current + "." : ""}${name.slice(0, dot)}`;
      const t = tables.get(table) ?? {};
      t[dot < 0 ? name : name.slice(dot + 1)] = v[0];
      tables.set(table, t);
      i = text.indexOf("\n", v[1]) < 0 ? text.length : text.indexOf("\n", v[1]) + 1;
    } else i += line.length + 1;
  }
  if (!prefix) return tables;
  const ours = new Map<string, Record<string, Value>>();
  for (const [k, v] of tables) if (k.startsWith(prefix)) ours.set(k.slice(prefix.length), v);
  return ours;
}

/** The features environment `env` is made of: the default one, then its own, in order. */
function featuresOf(tables: Map<string, Record<string, Value>>, env: string): string[] {
  if (env === "default") return [""];
  const spec = tables.get("environments")?.[env];
  const list = Array.isArray(spec) ? spec : (spec as Record<string, Value> | undefined)?.features;
  const own = Array.isArray(list) ? list.filter((f): f is string => typeof f === "string") : [env];
  const noDefault = !Array.isArray(spec) &&
    (spec as Record<string, Value> | undefined)?.["no-default-feature"] === "true";
  return [...(noDefault ? [] : [""]), ...own];
}

/**
 * The activation manifest `text` gives environment `env`; `pyproject` for a `pyproject.toml`,
 * whose pixi tables sit under `tool.pixi`.
 */
export function manifestActivation(
  text: string,
  env: string,
  pyproject: boolean,
): ManifestActivation {
  const tables = readTables(text, pyproject ? "tool.pixi." : "");
  const scripts: string[] = [];
  const vars = new Map<string, string>();
  for (const feature of featuresOf(tables, env)) {
    const base = feature ? `feature.${feature}.activation` : "activation";
    const t = tables.get(base) ?? {};
    if (Array.isArray(t.scripts)) {
      for (const s of t.scripts) if (typeof s === "string") scripts.push(s);
    }
    const env = {
      ...(typeof t.env === "object" && !Array.isArray(t.env) ? t.env : {}),
      ...tables.get(`${base}.env`),
    };
    for (const [k, v] of Object.entries(env)) if (typeof v === "string") vars.set(k, v);
  }
  return { scripts, env: [...vars] };
}
