/**
 * Field-by-field checks of records read back from JSON state files: every reader states the
 * type of each field it uses, and a record that does not match is dropped with the reason,
 * instead of failing a command later with "an unexpected error".
 * @module
 */

/** One field's rule: whether it must be present, and a test of its value. */
export interface FieldRule {
  readonly required: boolean;
  /** What the value should be, for the message: `a string`, `a port number`. */
  readonly what: string;
  readonly test: (value: unknown) => boolean;
}

/** A required string (`nonEmpty`: not ""). */
export function text(nonEmpty = false): FieldRule {
  return {
    required: true,
    what: nonEmpty ? "a non-empty string" : "a string",
    test: (v) => typeof v === "string" && (!nonEmpty || v !== ""),
  };
}

/** A required integer in `[min, max]`. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): FieldRule {
  return {
    required: true,
    what: `a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? " up" : ` to ${max}`}`,
    test: (v) => typeof v === "number" && Number.isSafeInteger(v) && v >= min && v <= max,
  };
}

/** A required string that `Date.parse` reads. */
export function timestamp(): FieldRule {
  return {
    required: true,
    what: "an ISO 8601 time",
    test: (v) => typeof v === "string" && Number.isFinite(Date.parse(v)),
  };
}

/** A required string matching `re`. */
export function matching(re: RegExp, what: string): FieldRule {
  return { required: true, what, test: (v) => typeof v === "string" && re.test(v) };
}

/** A required string among `values`. */
export function oneOf(values: readonly string[]): FieldRule {
  return {
    required: true,
    what: `one of ${values.map((v) => `"${v}"`).join(", ")}`,
    test: (v) => typeof v === "string" && values.includes(v),
  };
}

/** The same rule, for a field that may be absent (or null, which JSON writers produce). */
export function optional(rule: FieldRule): FieldRule {
  return { ...rule, required: false };
}

/**
 * Checks `value` against `rules`: undefined when it is an object whose every field follows its
 * rule, else the first problem, e.g. `field "port" is "x", not a port number`. Fields without a
 * rule are left alone (a newer version may have added them).
 */
export function checkFields(
  value: unknown,
  rules: Readonly<Record<string, FieldRule>>,
): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return "not a JSON object";
  }
  const v = value as Record<string, unknown>;
  for (const [name, rule] of Object.entries(rules)) {
    const field = v[name];
    if (field === undefined || field === null) {
      if (rule.required) return `field "${name}" is missing`;
      continue;
    }
    if (!rule.test(field)) {
      const shown = JSON.stringify(field) ?? String(field);
      return `field "${name}" is ${
        shown.length > 40 ? shown.slice(0, 40) + "…" : shown
      }, not ${rule.what}`;
    }
  }
  return undefined;
}
