#!/bin/bash
# corpus: SBATCH_QOS and SBATCH_TIMELIMIT apply to every component
# corpus-env: SBATCH_QOS=long SBATCH_TIMELIMIT=3-0
# corpus-expect: rejected
#SBATCH -p cpu
#SBATCH hetjob
#SBATCH -p gpu --gres=gpu:1

srun true
