#!/bin/bash
# corpus: --gpus-per-task=1 -n 3 (tres_per_task): 3 GPUs
# corpus-expect: rejected
#SBATCH -p gpu --gpus-per-task=1 -n 3

srun true
