/**
 * The batch job this process runs in, read from the scheduler's environment variables:
 * Slurm, PBS (Pro, OpenPBS, Torque) and LSF. Pure: it takes a lookup function for the
 * environment.
 * @module
 */

/** What detection reports about the job. Figures are for this node; `null` when unknown. */
export interface SchedulerInfo {
  readonly kind: "slurm" | "pbs" | "lsf" | null;
  readonly job_id: string | null;
  /** The job's node list as the scheduler wrote it (compressed for Slurm). */
  readonly node_list: string | null;
  /** The node list expanded (at most {@link MAX_HOSTS} names). */
  readonly nodes: string[];
  readonly node_count: number | null;
  /** CPUs the job may use on this node (a Slurm "CPU" is a hardware thread on SMT nodes). */
  readonly cpus: number | null;
  readonly gpus: number | null;
  /** Memory the job may use on this node, in MiB. */
  readonly memory_mib: number | null;
  /** The variables these figures came from, for `sources`. */
  readonly variables: Record<string, string>;
}

/** The most host names a node list is expanded to (a guard against a hostile value). */
export const MAX_HOSTS = 4096;

type Env = (name: string) => string | undefined;

function wholeNumber(text: string | undefined): number | null {
  if (text === undefined || !/^\s*\d+\s*$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * Expands a Slurm hostlist (`gpu[017-018]`, `lx[15,18,32-33]`, `rack[0-1]_blade[0-1]`,
 * `a1,b[01-03]`); `undefined` for a malformed list.
 */
export function expandHostlist(text: string, max = MAX_HOSTS): string[] | undefined {
  const groups: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "[") depth++;
    else if (text[i] === "]") depth--;
    else if (text[i] === "," && depth === 0) {
      groups.push(text.slice(start, i));
      start = i + 1;
    }
    if (depth < 0 || depth > 1) return undefined;
  }
  if (depth !== 0) return undefined;
  groups.push(text.slice(start));
  const hosts: string[] = [];
  for (const group of groups.map((g) => g.trim()).filter(Boolean)) {
    let names = [""];
    for (const piece of group.split(/(\[[^\]]*\])/).filter((p) => p !== "")) {
      if (!piece.startsWith("[")) {
        names = names.map((n) => n + piece);
        continue;
      }
      const values: string[] = [];
      for (const range of piece.slice(1, -1).split(",")) {
        const m = /^(\d+)(?:-(\d+))?$/.exec(range.trim());
        if (!m) return undefined;
        const width = m[1].length;
        const lo = Number(m[1]);
        const hi = m[2] === undefined ? lo : Number(m[2]);
        if (hi < lo) return undefined;
        for (let v = lo; v <= hi && values.length <= max; v++) {
          values.push(String(v).padStart(width, "0"));
        }
      }
      names = names.flatMap((n) => values.map((v) => n + v));
      if (names.length > max) return undefined;
    }
    hosts.push(...names);
    if (hosts.length > max) return undefined;
  }
  return hosts;
}

function pick(
  env: Env,
  names: readonly string[],
  used: Record<string, string>,
): string | undefined {
  for (const name of names) {
    const v = env(name);
    if (v !== undefined && v !== "") {
      used[name] = v;
      return v;
    }
  }
  return undefined;
}

function slurm(env: Env, problems: string[]): SchedulerInfo {
  const used: Record<string, string> = {};
  // A count that is not a number is reported, then treated as unknown.
  const positiveInt = (text: string | undefined): number | null => {
    const n = wholeNumber(text);
    if (text !== undefined && n === null) {
      const name = Object.keys(used).find((k) => used[k] === text) ?? "a Slurm variable";
      problems.push(`${name}='${text}' is not a whole number; it is ignored`);
    }
    return n;
  };
  const jobId = pick(env, ["SLURM_JOB_ID", "SLURM_JOBID"], used) ?? null;
  const nodeList = pick(env, ["SLURM_JOB_NODELIST", "SLURM_NODELIST"], used) ?? null;
  let nodes: string[] = [];
  if (nodeList !== null) {
    const expanded = expandHostlist(nodeList);
    if (expanded) nodes = expanded;
    else problems.push(`cannot expand the Slurm node list '${nodeList}'; it is shown as given`);
  }
  const numNodes = positiveInt(pick(env, ["SLURM_JOB_NUM_NODES", "SLURM_NNODES"], used));
  const cpus = positiveInt(pick(env, ["SLURM_CPUS_ON_NODE"], used));
  const gpus = positiveInt(pick(env, ["SLURM_GPUS_ON_NODE"], used));
  let memory: number | null = positiveInt(pick(env, ["SLURM_MEM_PER_NODE"], used));
  if (memory === null) {
    const perCpu = positiveInt(pick(env, ["SLURM_MEM_PER_CPU"], used));
    if (perCpu !== null && cpus !== null) memory = perCpu * cpus;
  }
  if (memory === null) {
    const perGpu = positiveInt(pick(env, ["SLURM_MEM_PER_GPU"], used));
    if (perGpu !== null && gpus !== null) memory = perGpu * gpus;
  }
  // Slurm writes 0 for --mem=0, which means "all the node's memory", not none.
  if (memory === 0) memory = null;
  pick(env, ["SLURM_JOB_GPUS", "SLURM_STEP_GPUS"], used);
  pick(env, ["SLURMD_NODENAME"], used);
  return {
    kind: "slurm",
    job_id: jobId,
    node_list: nodeList,
    nodes,
    node_count: numNodes ?? (nodes.length || null),
    cpus: cpus || null,
    gpus,
    memory_mib: memory,
    variables: used,
  };
}

function pbs(env: Env): SchedulerInfo {
  const used: Record<string, string> = {};
  const jobId = pick(env, ["PBS_JOBID"], used) ?? null;
  const cpus = wholeNumber(pick(env, ["NCPUS", "PBS_NUM_PPN"], used));
  const nodeCount = wholeNumber(pick(env, ["PBS_NUM_NODES"], used));
  pick(env, ["PBS_NODEFILE"], used);
  return {
    kind: "pbs",
    job_id: jobId,
    node_list: null,
    nodes: [],
    node_count: nodeCount,
    cpus: cpus || null,
    gpus: null,
    memory_mib: null,
    variables: used,
  };
}

function lsf(env: Env): SchedulerInfo {
  const used: Record<string, string> = {};
  const jobId = pick(env, ["LSB_JOBID"], used) ?? null;
  const pairs = pick(env, ["LSB_MCPU_HOSTS"], used);
  const nodes: string[] = [];
  let cpus: number | null = null;
  const host = env("HOSTNAME");
  if (pairs) {
    const words = pairs.trim().split(/\s+/);
    for (let i = 0; i + 1 < words.length; i += 2) {
      nodes.push(words[i]);
      // Only the slot count of this host limits this process.
      if (
        host !== undefined && (words[i] === host || words[i].split(".")[0] === host.split(".")[0])
      ) {
        cpus = wholeNumber(words[i + 1]);
      }
    }
  }
  return {
    kind: "lsf",
    job_id: jobId,
    node_list: pairs ?? null,
    nodes,
    node_count: nodes.length || null,
    cpus,
    gpus: null,
    memory_mib: null,
    variables: used,
  };
}

/** The job this process runs in, or a `kind: null` record outside any batch job. */
export function detectScheduler(env: Env, problems: string[] = []): SchedulerInfo {
  if (env("SLURM_JOB_ID") || env("SLURM_JOBID")) return slurm(env, problems);
  if (env("PBS_JOBID")) return pbs(env);
  if (env("LSB_JOBID")) return lsf(env);
  return {
    kind: null,
    job_id: null,
    node_list: null,
    nodes: [],
    node_count: null,
    cpus: null,
    gpus: null,
    memory_mib: null,
    variables: {},
  };
}
