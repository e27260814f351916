/**
 * Durations and timestamps as schedulers write them. Pure functions.
 *
 * Slurm uses one duration syntax for `--time` and for squeue's `%L`/`%l`: `M`, `M:S`, `H:M:S`,
 * `D-H`, `D-H:M`, `D-H:M:S`, and words (`UNLIMITED`, `INFINITE`, `N/A`, `NOT_SET`, `INVALID`).
 * @module
 */

/** Seconds in `text`; `Infinity` for no limit; `undefined` when there is no value or it is malformed. */
export function parseSlurmDuration(text: string): number | undefined {
  const t = text.trim();
  if (/^(UNLIMITED|INFINITE|infinite|unlimited)$/.test(t)) return Infinity;
  const m = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/.exec(t);
  if (!m) return undefined;
  const [, days, a, b, c] = m;
  const n = (s: string | undefined) => (s === undefined ? 0 : Number(s));
  let h = 0, min = 0, s = 0;
  if (days !== undefined) [h, min, s] = [n(a), n(b), n(c)];
  else if (c !== undefined) [h, min, s] = [n(a), n(b), n(c)];
  else [min, s] = [n(a), n(b)];
  return ((n(days) * 24 + h) * 60 + min) * 60 + s;
}

/** `seconds` as Slurm reads a duration: `D-HH:MM:SS`, else `H:MM:SS` (hours shown, even 0). */
export function formatSlurmDuration(seconds: number): string {
  if (seconds === Infinity) return "UNLIMITED";
  const total = Math.max(0, Math.floor(seconds));
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (v: number) => String(v).padStart(2, "0");
  if (d > 0) return `${d}-${two(h)}:${two(m)}:${two(s)}`;
  return `${h}:${two(m)}:${two(s)}`;
}

/** `seconds` as `HH:MM:SS` with unbounded hours (PBS walltime). */
export function formatHms(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const two = (v: number) => String(v).padStart(2, "0");
  return `${two(Math.floor(total / 3600))}:${two(Math.floor((total % 3600) / 60))}:${
    two(total % 60)
  }`;
}

/** A short human form for progress lines: `45s`, `12 min`, `2 h 05 min`, `3 d 4 h`. */
export function humanDuration(seconds: number): string {
  if (seconds === Infinity) return "no limit";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) {
    return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
  }
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

/**
 * A Slurm timestamp (`2026-11-25T23:07:56`, the controller's local time, no zone) as a Date;
 * `undefined` for `N/A`, `Unknown`, `None` and anything malformed.
 */
export function parseSlurmTimestamp(text: string): Date | undefined {
  const t = text.trim();
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(t)) return undefined;
  // Without an offset, ECMAScript reads a date-time as local time, which is what Slurm means.
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Month abbreviations as PBS and LSF print dates. */
export const MONTHS = [
  "Jan",
  "Feb",
  "Mar",
  "Apr",
  "May",
  "Jun",
  "Jul",
  "Aug",
  "Sep",
  "Oct",
  "Nov",
  "Dec",
];
