#!/bin/bash
# demo-title: 13. carol (group hpcadmin, exempt) uses QOS gpu on partition cpu
# demo-user: carol
# demo-expect: ACCEPTED
# demo-args: -p cpu --qos=gpu
#
# The policy allows only QOS normal and long on partition cpu, and alice is
# refused this job. Group hpcadmin is exempt from every rule (exempt in
# policy.yaml): carol's job is accepted as written, and Slurm's own checks
# still apply (her association may use QOS gpu).

echo "carol's job runs on $SLURMD_NODENAME with QOS $SLURM_JOB_QOS"
