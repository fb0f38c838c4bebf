#!/bin/bash
# corpus: SBATCH_OUTPUT applies to every component alike
# corpus-env: SBATCH_OUTPUT=corpus-env-%j.out
# corpus-expect: accepted
#SBATCH -p cpu
#SBATCH hetjob
#SBATCH -p cpu

srun true
