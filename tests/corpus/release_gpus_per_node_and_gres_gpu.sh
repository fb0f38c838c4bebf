#!/bin/bash
# corpus: --gpus-per-node with --gres=gpu: one tres_per_node in 22.05 and 24.11, fatal in 26.05
# corpus-expect: accepted
# corpus-expect-26.05: refused
#SBATCH -p gpu --gpus-per-node=1 --gres=gpu:1

srun true
