/**
 * The activation of a kernel's environment, from the install's flags to the launch script's
 * pieces: which environment (flags, else the Python's own), in which mode, what its prefix
 * holds, the capture when asked for, and how it is shown. `install` calls
 * {@link prepareActivation} once and hands the pieces to the kernelspec's composition.
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { resolve } from "../util/path.ts";
import { captureActivation, captureEnv, CaptureFailed } from "./capture.ts";
import { activationMode, environmentOfPython, type EnvRequest } from "./choose.ts";
import { dryRunLines, environmentRecord, summaryLine } from "./describe.ts";
import { activationPlan } from "./plan.ts";
import { readPrefix } from "./prefix.ts";
import { type ActivationParts, activationParts, type ActivationTemplates } from "./script.ts";
import type { Captured, EnvChoice } from "./types.ts";
import { Failure } from "../util/errors.ts";

/** What {@link prepareActivation} needs. */
export interface ActivationInput {
  readonly request: EnvRequest;
  /** The environment the flags named (see requestedEnvironment). */
  readonly choice?: EnvChoice;
  /** The kernel's Python, and what chose it (for messages). */
  readonly python: string;
  readonly pythonSource: string;
  /** `--source FILE`, as given. */
  readonly source?: string;
  readonly vars: Readonly<Record<string, string | undefined>>;
  /** The command that reinstalls this kernel as it is being installed now (`… install --replace …`). */
  readonly refresh: string;
  /** `kernels/activate.sh` and `kernels/env_vars.awk`. */
  readonly templates: ActivationTemplates;
  /** The whole launch script for the given pieces, for a capture run. */
  readonly render: (parts: ActivationParts) => string;
  readonly cwd: string;
}

/** What the install writes and says about the activation. */
export interface PreparedActivation {
  /** The launch script's pieces; absent when there is nothing to activate or source. */
  readonly parts?: ActivationParts;
  /** `metadata.legate_jupyter.environment`, when an environment is activated. */
  readonly record?: Record<string, unknown>;
  /** The one line `install` prints, when an environment is activated. */
  readonly summary?: string;
  /** The lines `--dry-run` prints. */
  readonly dryRun: readonly string[];
  readonly warnings: readonly string[];
}

function sourceFile(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const path = resolve(value);
  try {
    if (Deno.statSync(path).isFile) return path;
  } catch {
    // Reported below.
  }
  throw new UsageError(
    `--source ${value}: no such file; give the path of a shell script to source`,
  );
}

/** Plans the activation of an install; runs the capture when `--activate captured` asks. */
export async function prepareActivation(input: ActivationInput): Promise<PreparedActivation> {
  const source = sourceFile(input.source);
  const choice = input.choice ?? environmentOfPython(input.python, input.vars, input.pythonSource);
  const mode = activationMode(input.request.activate, choice);
  const activation = mode === "off" || !choice
    ? undefined
    : activationPlan(choice, readPrefix(choice), mode, input.python);
  const base = { activation, source, refresh: input.refresh };
  let captured: Captured | undefined;
  if (activation?.mode === "captured") {
    try {
      captured = await captureActivation(activation, {
        render: input.render,
        parts: (capture) =>
          activationParts(
            { ...base, activation: { ...activation, mode: "live" }, capture },
            input.templates,
          )!,
        env: captureEnv(input.vars, activation),
        cwd: input.cwd,
      });
    } catch (e) {
      if (!(e instanceof CaptureFailed)) throw e;
      throw new Failure(
        `capturing the activation of ${activation.choice.prefix} failed: ${e.message}; fix it, ` +
          "or install with --activate live, which runs it at every kernel start instead",
      );
    }
  }
  const parts = activationParts({ ...base, captured }, input.templates);
  if (!activation) {
    return {
      parts,
      dryRun: source ? [`Sources ${source} at every start (bash)`] : [],
      warnings: [],
    };
  }
  return {
    parts,
    record: environmentRecord(activation, captured),
    summary: summaryLine(activation, captured),
    dryRun: [
      ...dryRunLines(activation, captured),
      ...(source ? [`Sources ${source} at every start (bash)`] : []),
    ],
    warnings: [
      ...activation.warnings,
      ...(captured?.warnings.map((w) => `while capturing: ${w}`) ?? []),
    ],
  };
}
