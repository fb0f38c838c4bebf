#!/bin/bash
# corpus: --gpus=2 --gpus-per-node=1: sbatch sets 2 nodes; one allocation of 2 GPUs, within the gpu QOS's 2
# corpus-expect: accepted
#SBATCH -p gpu --gpus=2 --gpus-per-node=1

srun true
