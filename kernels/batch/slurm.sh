#!/bin/bash
{{DIRECTIVES}}
# Written by legate-jupyter: starts Jupyter for Legate on the allocated node.
# Submit it with: sbatch THIS_FILE

lj_job_id=${SLURM_JOB_ID:-}

# Seconds left before Slurm ends this job, read from the controller (so an extended limit counts).
lj_time_left() {
  [ -n "$lj_job_id" ] || return 0
  lj_duration "$(squeue -h -j "$lj_job_id" -o %L 2>/dev/null)"
}

{{BODY}}
