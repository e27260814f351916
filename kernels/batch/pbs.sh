#!/bin/bash
{{DIRECTIVES}}
# Written by legate-jupyter: starts Jupyter for Legate on the allocated node.
# Submit it with: qsub THIS_FILE

lj_job_id=${PBS_JOBID:-}
lj_started=$(date +%s)
lj_limit={{LIMIT_SECONDS}}
# PBS starts jobs in $HOME; Slurm and LSF start them where they were submitted.
cd "${PBS_O_WORKDIR:-$HOME}" || exit 1

# Seconds left before the walltime asked for here runs out (nothing when none was asked for).
lj_time_left() {
  [ -n "$lj_limit" ] || return 0
  echo $((lj_limit - ($(date +%s) - lj_started)))
}

{{BODY}}
