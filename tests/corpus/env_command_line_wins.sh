#!/bin/bash
# corpus: the command line comes after SBATCH_PARTITION
# corpus-args: -p gpu
# corpus-env: SBATCH_PARTITION=cpu
# corpus-expect: accepted
#SBATCH --gres=gpu:1

srun true
