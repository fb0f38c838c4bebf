#!/bin/bash
# demo-title: 10. a quantum component without --qpu
# demo-expect: REJECTED
#
# The quantum partition requires --qpu (options.qpu.required_on): slurmctld
# refuses the component, naming it, even when the client skipped the check.

#SBATCH --partition cpu
#SBATCH hetjob
#SBATCH --partition quantum --gres=qpu:1

srun --het-group=1 true
