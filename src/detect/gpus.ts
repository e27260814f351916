/**
 * Detection of GPUs: through NVML, else `nvidia-smi`, else the NVIDIA driver's `/proc` files,
 * else the PCI bus; and which of them CUDA would show this process, numbered as CUDA numbers
 * them under `CUDA_VISIBLE_DEVICES`.
 * @module
 */

import type { NvmlOutcome } from "./nvml.ts";
import { parseNvidiaInformation, parseSmiCsv, SMI_QUERY_FIELDS } from "./parse.ts";
import { type CudaDevice, resolveVisibleDevices } from "./cuda.ts";
import { naturalCompare, quote, type Reader, reason } from "./reader.ts";
import type { GpuReport } from "./types.ts";

/** A GPU as read, before `CUDA_VISIBLE_DEVICES` numbers it. */
export interface RawGpu {
  index: number;
  name: string | null;
  uuid: string | null;
  memory_total_mib: number | null;
  memory_free_mib: number | null;
  pci_bus_id: string | null;
  mig_mode: boolean | null;
  mig: {
    index: number;
    name: string | null;
    uuid: string | null;
    memory_total_mib: number | null;
    memory_free_mib: number | null;
  }[];
}

/** The GPUs found, the driver, and where they were read from. */
export interface GpuFindings {
  gpus: RawGpu[];
  driver: string | null;
  source: string;
  /** The source in a word or two, for sentences. */
  short: string;
}

function fromNvml(nv: Extract<NvmlOutcome, { ok: true }>): RawGpu[] {
  return nv.devices.map((d) => ({
    index: d.index,
    name: d.name,
    uuid: d.uuid,
    memory_total_mib: d.memoryTotalMib,
    memory_free_mib: d.memoryFreeMib,
    pci_bus_id: null,
    mig_mode: d.migMode,
    mig: d.mig.map((m) => ({
      index: m.index,
      name: m.name,
      uuid: m.uuid,
      memory_total_mib: m.memoryTotalMib,
      memory_free_mib: m.memoryFreeMib,
    })),
  }));
}

async function fromSmi(r: Reader, notes: string[]): Promise<RawGpu[] | undefined> {
  let result;
  try {
    result = await r.probe.run("nvidia-smi", [
      `--query-gpu=${SMI_QUERY_FIELDS}`,
      "--format=csv,noheader,nounits",
    ]);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) notes.push("nvidia-smi not found on PATH");
    else r.problems.push(`cannot run nvidia-smi: ${reason(error)}`);
    return undefined;
  }
  if (result.code !== 0) {
    // nvidia-smi writes its failures to stdout.
    const said = (result.stdout.trim() || result.stderr.trim()).split("\n")[0] ?? "";
    r.problems.push(`nvidia-smi failed (exit ${result.code})${said ? `: ${said}` : ""}`);
    return undefined;
  }
  const { rows, junk } = parseSmiCsv(result.stdout);
  for (const line of junk) {
    r.problems.push(`nvidia-smi printed a line that is not GPU data: ${quote(line)}`);
  }
  if (rows.length === 0) {
    if (junk.length === 0) notes.push("nvidia-smi lists no GPU");
    return undefined;
  }
  return rows.map((row) => ({
    index: row.index,
    name: row.name,
    uuid: row.uuid,
    memory_total_mib: row.memoryTotalMib,
    memory_free_mib: row.memoryFreeMib,
    pci_bus_id: row.pciBusId,
    // --query-gpu lists parent GPUs only; MIG instances need NVML.
    mig_mode: null,
    mig: [],
  }));
}

function fromProc(r: Reader): RawGpu[] {
  const base = "/proc/driver/nvidia/gpus";
  const buses = r.dir(base, true) ?? [];
  const gpus: RawGpu[] = [];
  for (const bus of buses) {
    const text = r.text(`${base}/${bus}/information`);
    if (text === undefined) continue;
    const info = parseNvidiaInformation(text);
    gpus.push({
      index: 0,
      name: info.get("Model") ?? null,
      uuid: info.get("GPU UUID")?.match(/^GPU-[0-9a-f-]+$/i)?.[0] ?? null,
      memory_total_mib: null,
      memory_free_mib: null,
      pci_bus_id: info.get("Bus Location") ?? bus,
      mig_mode: null,
      mig: [],
    });
  }
  return gpus;
}

function fromPci(r: Reader): RawGpu[] {
  const base = "/sys/bus/pci/devices";
  const gpus: RawGpu[] = [];
  for (const bus of r.dir(base, true) ?? []) {
    let vendor: string, cls: string, device: string;
    try {
      vendor = r.probe.readFile(`${base}/${bus}/vendor`).trim();
      cls = r.probe.readFile(`${base}/${bus}/class`).trim();
      device = r.probe.readFile(`${base}/${bus}/device`).trim();
    } catch {
      continue;
    }
    // Display controllers only: NVSwitches (bridges) and HDMI audio share NVIDIA's vendor id.
    if (vendor.toLowerCase() !== "0x10de" || (parseInt(cls, 16) >> 16) !== 0x03) continue;
    gpus.push({
      index: 0,
      name: `NVIDIA device ${device}`,
      uuid: null,
      memory_total_mib: null,
      memory_free_mib: null,
      pci_bus_id: bus,
      mig_mode: null,
      mig: [],
    });
  }
  return gpus;
}

/**
 * The GPUs: through NVML, else `nvidia-smi`, else the driver's `/proc` files, else the PCI bus
 * (in NVML's order, which is the order indices refer to).
 */
export async function readGpus(r: Reader): Promise<GpuFindings> {
  const notes: string[] = [];
  const nv = await r.probe.nvml();
  if (nv.ok) {
    r.problems.push(...nv.problems);
    const lib = nv.library.split("/").pop();
    const opened = nv.devices.length < nv.count
      ? `, ${nv.devices.length} of ${nv.count} usable`
      : "";
    return {
      gpus: fromNvml(nv),
      driver: nv.driverVersion,
      source: `NVML (${lib}${nv.driverVersion ? `, driver ${nv.driverVersion}` : ""}${opened})`,
      short: "NVML",
    };
  }
  if (nv.stage === "load") notes.push(`NVML not loaded: ${nv.message}`);
  else {r.problems.push(
      `NVML failed to ${nv.stage === "init" ? "start" : "count GPUs"}: ${nv.message}`,
    );}

  const smi = await fromSmi(r, notes);
  if (smi) {
    return {
      gpus: smi,
      driver: null,
      source: "nvidia-smi --query-gpu (no MIG instances)",
      short: "nvidia-smi",
    };
  }

  // Sorting by bus id gives NVML's order, which is the order indices refer to.
  const byBus = (a: RawGpu, b: RawGpu) => naturalCompare(a.pci_bus_id ?? "", b.pci_bus_id ?? "");
  const driver = r.text("/sys/module/nvidia/version", true)?.trim() || null;
  // Without NVML or nvidia-smi: the driver's /proc files, else the PCI bus, in NVML's order.
  const fallbacks = [
    [
      fromProc,
      "/proc/driver/nvidia/gpus (count and names only; memory needs NVML or nvidia-smi)",
      "/proc/driver/nvidia/gpus",
    ],
    [fromPci, "PCI sysfs (count only; no NVIDIA driver answered)", "PCI sysfs"],
  ] as const;
  for (const [read, source, short] of fallbacks) {
    const gpus = read(r).sort(byBus);
    if (gpus.length === 0) continue;
    gpus.forEach((g, i) => g.index = i);
    return { gpus, driver, source, short };
  }
  return {
    gpus: [],
    driver,
    source: `no NVIDIA GPU found (${notes.join("; ") || "nothing answered"})`,
    short: "no GPU found",
  };
}

/** What {@link visibleGpus} found: the report's GPUs and the devices CUDA would show. */
export interface VisibleGpus {
  readonly gpus: GpuReport[];
  /** The devices CUDA numbers, in its order: a GPU, or a MIG instance of one. */
  readonly devices: readonly CudaDevice[];
  readonly notes: readonly string[];
}

/**
 * The GPUs as the report shows them, each (and each MIG instance) with the index CUDA gives it
 * under `cvd` (`CUDA_VISIBLE_DEVICES`); entries that name nothing are problems.
 */
export function visibleGpus(
  r: Reader,
  found: GpuFindings,
  cvd: string | undefined,
): VisibleGpus {
  const visible = resolveVisibleDevices(
    cvd,
    found.gpus.map((g) => ({ uuid: g.uuid, migMode: g.mig_mode === true, mig: g.mig })),
  );
  for (const junk of visible.junk) {
    r.problems.push(`CUDA_VISIBLE_DEVICES entry ${quote(junk)} is not a GPU index or UUID`);
  }
  const cudaIndex = new Map(visible.devices.map((d, i) => [`${d.gpu}/${d.mig}`, i]));
  const gpus: GpuReport[] = found.gpus.map((g, gi) => ({
    index: g.index,
    name: g.name,
    uuid: g.uuid,
    memory_total_mib: g.memory_total_mib,
    memory_free_mib: g.memory_free_mib,
    pci_bus_id: g.pci_bus_id,
    mig_mode: g.mig_mode,
    mig: g.mig.map((m, mi) => ({ ...m, cuda_index: cudaIndex.get(`${gi}/${mi}`) ?? null })),
    cuda_index: cudaIndex.get(`${gi}/null`) ?? null,
  }));
  return { gpus, devices: visible.devices, notes: visible.notes };
}
