#!/bin/bash
# corpus: --gpus-per-node=2 -N 1 (tres_per_node)
# corpus-expect: accepted
#SBATCH -p gpu --gpus-per-node=2 -N 1

srun true
