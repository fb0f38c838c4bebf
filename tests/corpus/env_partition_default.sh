#!/bin/bash
# corpus: SBATCH_PARTITION=gpu for a script that names no partition
# corpus-env: SBATCH_PARTITION=gpu
# corpus-expect: accepted
#SBATCH --gres=gpu:1

srun true
