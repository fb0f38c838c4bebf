#!/bin/bash
# corpus: SBATCH_PARTITION=cpu overrides #SBATCH --partition=gpu (variables come after #SBATCH lines)
# corpus-env: SBATCH_PARTITION=cpu
# corpus-expect: rejected
#SBATCH --partition=gpu --gres=gpu:1

srun true
