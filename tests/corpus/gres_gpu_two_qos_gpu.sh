#!/bin/bash
# corpus: --gres=gpu:2 with the gpu QOS (max 2)
# corpus-expect: accepted
#SBATCH -p gpu --gres=gpu:2

srun true
