#!/bin/bash
# demo-title: 15a. a 9-hour interactive allocation (salloc)
# demo-command: salloc
# demo-expect: REJECTED
# demo-args: -p cpu -t 9:00:00
#
# Interactive jobs (salloc, srun outside an allocation) may run at most 8
# hours (time.interactive.max in policy.yaml). The demo runs
# `salloc --no-shell` with these arguments; this file's body is not used.

echo "not used: salloc runs no script"
