#!/bin/bash
# corpus: --gpus=2 --gpus-per-node=1: sbatch sets 2 nodes, the policy counts 2 + 1 x 2
# corpus-expect: rejected
#SBATCH -p gpu --gpus=2 --gpus-per-node=1

srun true
