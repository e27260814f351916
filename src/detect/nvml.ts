/**
 * GPUs through NVML, called directly with `Deno.dlopen` on `libnvidia-ml.so.1`: no Python
 * and no `nvidia-smi` process. Only {@link queryNvml} touches the library; it returns plain
 * data and never throws.
 * @module
 */

/** One MIG instance of a GPU as NVML reports it. */
export interface NvmlMig {
  readonly index: number;
  readonly name: string | null;
  readonly uuid: string | null;
  readonly memoryTotalMib: number | null;
  readonly memoryFreeMib: number | null;
}

/** One GPU NVML could open. */
export interface NvmlDevice {
  readonly index: number;
  readonly name: string | null;
  readonly uuid: string | null;
  readonly memoryTotalMib: number | null;
  readonly memoryFreeMib: number | null;
  /** `null` when the GPU does not support MIG (or the library lacks the MIG functions). */
  readonly migMode: boolean | null;
  readonly mig: NvmlMig[];
}

/** What NVML said: devices, or why it could not be asked. */
export type NvmlOutcome =
  | { readonly ok: false; readonly stage: "load"; readonly message: string }
  | {
    readonly ok: false;
    readonly stage: "init" | "count";
    readonly code: number;
    readonly message: string;
  }
  | {
    readonly ok: true;
    readonly library: string;
    readonly driverVersion: string | null;
    /** What `nvmlDeviceGetCount_v2` said, devices that could not be opened included. */
    readonly count: number;
    readonly devices: NvmlDevice[];
    readonly problems: string[];
  };

/** The library name the dynamic loader resolves (as CUDA and nvidia-smi do). */
export const NVML_LIBRARY = "libnvidia-ml.so.1";

/** nvmlReturn_t names, for messages that say which error it was. */
export const NVML_ERRORS: Readonly<Record<number, string>> = {
  1: "UNINITIALIZED",
  2: "INVALID_ARGUMENT",
  3: "NOT_SUPPORTED",
  4: "NO_PERMISSION",
  5: "ALREADY_INITIALIZED",
  6: "NOT_FOUND",
  7: "INSUFFICIENT_SIZE",
  9: "DRIVER_NOT_LOADED",
  10: "TIMEOUT",
  12: "LIBRARY_NOT_FOUND",
  13: "FUNCTION_NOT_FOUND",
  14: "CORRUPTED_INFOROM",
  15: "GPU_IS_LOST",
  16: "RESET_REQUIRED",
  17: "OPERATING_SYSTEM",
  18: "LIB_RM_VERSION_MISMATCH",
  19: "IN_USE",
  20: "MEMORY",
  999: "UNKNOWN",
};

const SUCCESS = 0;
const NOT_SUPPORTED = 3;
const NOT_FOUND = 6;
const MIB = 1048576n;

const SYMBOLS = {
  nvmlInit_v2: { parameters: [], result: "i32" },
  nvmlShutdown: { parameters: [], result: "i32" },
  nvmlErrorString: { parameters: ["i32"], result: "pointer", optional: true },
  nvmlSystemGetDriverVersion: { parameters: ["buffer", "u32"], result: "i32", optional: true },
  nvmlDeviceGetCount_v2: { parameters: ["buffer"], result: "i32" },
  nvmlDeviceGetHandleByIndex_v2: { parameters: ["u32", "buffer"], result: "i32" },
  nvmlDeviceGetName: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  nvmlDeviceGetUUID: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  nvmlDeviceGetMemoryInfo: { parameters: ["pointer", "buffer"], result: "i32" },
  // MIG appeared in R450; an older library simply lacks these.
  nvmlDeviceGetMigMode: {
    parameters: ["pointer", "buffer", "buffer"],
    result: "i32",
    optional: true,
  },
  nvmlDeviceGetMaxMigDeviceCount: {
    parameters: ["pointer", "buffer"],
    result: "i32",
    optional: true,
  },
  nvmlDeviceGetMigDeviceHandleByIndex: {
    parameters: ["pointer", "u32", "buffer"],
    result: "i32",
    optional: true,
  },
} as const;

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

function errorText(lib: Lib, code: number): string {
  let text: string | null = null;
  try {
    const p = lib.nvmlErrorString?.(code);
    if (p) text = Deno.UnsafePointerView.getCString(p);
  } catch {
    // A broken nvmlErrorString must not hide the code itself.
  }
  const name = NVML_ERRORS[code] ? `NVML_ERROR_${NVML_ERRORS[code]}` : "NVML error";
  return `${text ?? "unknown error"} (${name}, ${code})`;
}

function cString(buf: Uint8Array): string {
  const end = buf.indexOf(0);
  return new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end)).trim();
}

interface Described {
  name: string | null;
  uuid: string | null;
  memoryTotalMib: number | null;
  memoryFreeMib: number | null;
}

function describe(lib: Lib, dev: Deno.PointerValue, what: string, problems: string[]): Described {
  const name = new Uint8Array(96);
  const uuid = new Uint8Array(96);
  const mem = new BigUint64Array(3);
  const result: Described = { name: null, uuid: null, memoryTotalMib: null, memoryFreeMib: null };
  let rc = lib.nvmlDeviceGetName(dev, name, name.length);
  if (rc === SUCCESS) result.name = cString(name);
  else problems.push(`NVML cannot read the name of ${what}: ${errorText(lib, rc)}`);
  rc = lib.nvmlDeviceGetUUID(dev, uuid, uuid.length);
  if (rc === SUCCESS) result.uuid = cString(uuid);
  else problems.push(`NVML cannot read the UUID of ${what}: ${errorText(lib, rc)}`);
  rc = lib.nvmlDeviceGetMemoryInfo(dev, mem);
  if (rc === SUCCESS) {
    result.memoryTotalMib = Number(mem[0] / MIB);
    result.memoryFreeMib = Number(mem[1] / MIB);
  } else if (rc !== NOT_SUPPORTED) {
    problems.push(`NVML cannot read the memory of ${what}: ${errorText(lib, rc)}`);
  }
  return result;
}

function migInstances(lib: Lib, dev: Deno.PointerValue, gpu: number, problems: string[]) {
  const current = new Uint32Array(1);
  const pending = new Uint32Array(1);
  if (!lib.nvmlDeviceGetMigMode || !lib.nvmlDeviceGetMaxMigDeviceCount) {
    return { migMode: null, mig: [] };
  }
  const rc = lib.nvmlDeviceGetMigMode(dev, current, pending);
  if (rc !== SUCCESS) return { migMode: null, mig: [] };
  if (current[0] !== 1) return { migMode: false, mig: [] };
  const max = new Uint32Array(1);
  const mig: NvmlMig[] = [];
  const rcMax = lib.nvmlDeviceGetMaxMigDeviceCount(dev, max);
  if (rcMax !== SUCCESS || !lib.nvmlDeviceGetMigDeviceHandleByIndex) {
    problems.push(`NVML cannot list the MIG instances of GPU ${gpu}: ${errorText(lib, rcMax)}`);
    return { migMode: true, mig };
  }
  const handle = new BigUint64Array(1);
  for (let i = 0; i < max[0]; i++) {
    const rcMig = lib.nvmlDeviceGetMigDeviceHandleByIndex(dev, i, handle);
    // Slots without an instance answer NOT_FOUND; that is the normal case, not a problem.
    if (rcMig === NOT_FOUND) continue;
    if (rcMig !== SUCCESS) {
      problems.push(`NVML cannot open MIG instance ${i} of GPU ${gpu}: ${errorText(lib, rcMig)}`);
      continue;
    }
    const d = describe(lib, Deno.UnsafePointer.create(handle[0]), `MIG ${gpu}/${i}`, problems);
    mig.push({ index: i, ...d });
  }
  return { migMode: true, mig };
}

/**
 * Asks NVML at `library` for every GPU, with names, UUIDs, memory and MIG instances. A
 * device NVML counts but will not open (no permission under a device cgroup) is left out
 * and named in `problems`.
 */
export function queryNvml(library: string = NVML_LIBRARY): NvmlOutcome {
  let dl: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    dl = Deno.dlopen(library, SYMBOLS);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const text = message.replace(/^(Could not open library: )+/, "");
    // The usual case on a node without the driver; say it plainly.
    const absent = /cannot open shared object file: No such file/.test(text);
    return { ok: false, stage: "load", message: absent ? `${library} not found` : text };
  }
  const lib = dl.symbols;
  try {
    const rc = lib.nvmlInit_v2();
    if (rc !== SUCCESS) return { ok: false, stage: "init", code: rc, message: errorText(lib, rc) };
    try {
      const problems: string[] = [];
      const count = new Uint32Array(1);
      const rcCount = lib.nvmlDeviceGetCount_v2(count);
      if (rcCount !== SUCCESS) {
        return { ok: false, stage: "count", code: rcCount, message: errorText(lib, rcCount) };
      }
      let driverVersion: string | null = null;
      const version = new Uint8Array(80);
      if (lib.nvmlSystemGetDriverVersion?.(version, version.length) === SUCCESS) {
        driverVersion = cString(version);
      }
      const devices: NvmlDevice[] = [];
      const handle = new BigUint64Array(1);
      for (let i = 0; i < count[0]; i++) {
        const rcHandle = lib.nvmlDeviceGetHandleByIndex_v2(i, handle);
        if (rcHandle !== SUCCESS) {
          problems.push(
            `NVML cannot open GPU ${i}: ${
              errorText(lib, rcHandle)
            }; it is left out (not usable here)`,
          );
          continue;
        }
        const dev = Deno.UnsafePointer.create(handle[0]);
        const d = describe(lib, dev, `GPU ${i}`, problems);
        devices.push({ index: i, ...d, ...migInstances(lib, dev, i, problems) });
      }
      return { ok: true, library, driverVersion, count: count[0], devices, problems };
    } finally {
      lib.nvmlShutdown();
    }
  } catch (error) {
    // A symbol missing from a broken or foreign library: report it like any NVML failure.
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, stage: "load", message };
  } finally {
    dl.close();
  }
}
