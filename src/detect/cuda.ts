/**
 * `CUDA_VISIBLE_DEVICES` resolved the way the CUDA driver resolves it: unset means every
 * device, an empty value means none, entries are indices, `GPU-` UUID prefixes or `MIG-`
 * UUIDs, and the first entry that names no device (such as `-1`) ends the list.
 * @module
 */

/** What the resolver needs to know about one GPU. */
export interface VisibleGpu {
  readonly uuid: string | null;
  /** Whether the GPU is in MIG mode: CUDA then sees its MIG instances, not the GPU. */
  readonly migMode: boolean;
  readonly mig: readonly {
    readonly uuid: string | null;
    readonly gpuInstanceId?: number | null;
    readonly computeInstanceId?: number | null;
  }[];
}

/** One CUDA device: a whole GPU (`mig` null) or one MIG instance of it. */
export interface CudaDevice {
  readonly gpu: number;
  readonly mig: number | null;
}

/** The devices CUDA would enumerate, in CUDA order, and notes on entries it would stop at. */
export interface VisibleResult {
  readonly devices: CudaDevice[];
  /** Why the list ended early, in words (empty when every entry was used). */
  readonly notes: string[];
  /** Entries that are not device names at all (junk worth reporting as a problem). */
  readonly junk: string[];
}

function expand(gpus: readonly VisibleGpu[], gpu: number): CudaDevice[] {
  const g = gpus[gpu];
  if (g.migMode && g.mig.length > 0) return g.mig.map((_, mig) => ({ gpu, mig }));
  // A MIG-mode GPU with no instances offers CUDA nothing.
  if (g.migMode) return [];
  return [{ gpu, mig: null }];
}

function matchPrefix<T>(items: readonly T[], key: (t: T) => string | null, prefix: string): T[] {
  const p = prefix.toLowerCase();
  return items.filter((t) => (key(t) ?? "").toLowerCase().startsWith(p));
}

/**
 * Resolves `value` (the variable's text, or `undefined` when unset) against `gpus`, which
 * are indexed in NVML order (CUDA's order under `CUDA_DEVICE_ORDER=PCI_BUS_ID`, and for
 * identical GPUs its default order too).
 */
export function resolveVisibleDevices(
  value: string | undefined,
  gpus: readonly VisibleGpu[],
): VisibleResult {
  const notes: string[] = [];
  const junk: string[] = [];
  if (value === undefined) {
    return { devices: gpus.flatMap((_, i) => expand(gpus, i)), notes, junk };
  }
  if (value.trim() === "") {
    notes.push("CUDA_VISIBLE_DEVICES is empty, so CUDA sees no GPU");
    return { devices: [], notes, junk };
  }
  // Flag typos anywhere in the list, even past the entry where CUDA stops reading.
  for (const raw of value.split(",")) {
    const entry = raw.trim();
    if (!/^-?\d+$/.test(entry) && !/^(GPU|MIG)-/i.test(entry)) junk.push(entry);
  }
  const devices: CudaDevice[] = [];
  const seen = new Set<string>();
  const migs = gpus.flatMap((g, gpu) => g.mig.map((m, mig) => ({ ...m, gpu, mig })));
  for (const raw of value.split(",")) {
    const entry = raw.trim();
    let found: CudaDevice[] | undefined;
    if (/^\d+$/.test(entry)) {
      const i = Number(entry);
      if (i < gpus.length) found = expand(gpus, i);
    } else if (/^MIG-/i.test(entry)) {
      // Old drivers spell a MIG device `MIG-GPU-<uuid>/<gi>/<ci>`.
      const old = /^MIG-(GPU-[0-9a-f-]+)\/(\d+)\/(\d+)$/i.exec(entry);
      if (old) {
        const hits = migs.filter((m) =>
          (gpus[m.gpu].uuid ?? "").toLowerCase() === old[1].toLowerCase() &&
          m.gpuInstanceId === Number(old[2]) && m.computeInstanceId === Number(old[3])
        );
        if (hits.length === 1) found = [{ gpu: hits[0].gpu, mig: hits[0].mig }];
      } else {
        const hits = matchPrefix(migs, (m) => m.uuid, entry);
        if (hits.length === 1) found = [{ gpu: hits[0].gpu, mig: hits[0].mig }];
      }
    } else if (/^GPU-/i.test(entry)) {
      const hits = matchPrefix(gpus.map((g, i) => ({ g, i })), (x) => x.g.uuid, entry);
      if (hits.length === 1) found = expand(gpus, hits[0].i);
    }
    const key = found?.map((d) => `${d.gpu}/${d.mig}`).join(",");
    if (found === undefined || seen.has(key!)) {
      notes.push(
        `CUDA_VISIBLE_DEVICES entry '${entry}' names no ${
          found ? "new " : ""
        }device, so CUDA ignores it and every entry after it`,
      );
      break;
    }
    seen.add(key!);
    devices.push(...found);
  }
  return { devices, notes, junk };
}
