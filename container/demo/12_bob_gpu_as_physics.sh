#!/bin/bash
# demo-title: 12. the same GPU job, charged to physics with -A
# demo-user: bob
# demo-expect: ACCEPTED
# demo-args: -A physics -p gpu --gres=gpu:1
#
# bob is also in account physics: charged there with -A, the job may use
# partition gpu.

echo "bob's GPU job runs on $SLURMD_NODENAME, charged to $SLURM_JOB_ACCOUNT"
