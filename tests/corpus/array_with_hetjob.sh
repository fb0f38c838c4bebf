#!/bin/bash
# corpus: --array on a hetjob: slurmctld refuses it
# corpus-expect: rejected
#SBATCH --array=0-3
#SBATCH -p cpu
#SBATCH hetjob
#SBATCH -p cpu

srun true
