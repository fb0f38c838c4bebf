#!/bin/bash
# corpus: five components: hetjob.max_components is 4
# corpus-expect: rejected
#SBATCH -p cpu
#SBATCH hetjob
#SBATCH -p cpu
#SBATCH hetjob
#SBATCH -p cpu
#SBATCH hetjob
#SBATCH -p cpu
#SBATCH hetjob
#SBATCH -p cpu

srun true
