#!/bin/bash
# corpus: --error on component 1
# corpus-expect: rejected
#SBATCH -p cpu
#SBATCH hetjob
#SBATCH -p cpu --error=err-%j.txt

srun true
