#!/bin/bash
# demo-title: 7b. a plain CPU job
# demo-expect: ACCEPTED
# demo-args: -p cpu
#
# The everyday case: a plain job on the cpu partition, nothing to object to.

echo "plain CPU job on $SLURMD_NODENAME"
