#!/bin/bash
# corpus: a partition slurm.conf does not have: slurmctld refuses it after the policy
# corpus-expect: rejected
#SBATCH -p nosuch

srun true
