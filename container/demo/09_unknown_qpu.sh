#!/bin/bash
# demo-title: 9. a QPU the policy does not know
# demo-expect: REJECTED
#
# --qpu=ibm_nowhere is refused inside sbatch by spank_hetpolicy.so, before
# anything is sent to slurmctld; the message lists the allowed values.

#SBATCH --partition cpu
#SBATCH hetjob
#SBATCH --partition quantum --gres=qpu:1 --qpu=ibm_nowhere

srun --het-group=1 true
