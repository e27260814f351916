#!/bin/bash
{{DIRECTIVES}}
# Written by legate-jupyter: starts Jupyter for Legate on the allocated node.
# Submit it with: bsub < THIS_FILE

lj_job_id=${LSB_JOBID:-}
lj_started=$(date +%s)
lj_limit={{LIMIT_SECONDS}}

# Seconds left before the run limit asked for here runs out (nothing when none was asked for).
lj_time_left() {
  [ -n "$lj_limit" ] || return 0
  echo $((lj_limit - ($(date +%s) - lj_started)))
}

{{BODY}}
