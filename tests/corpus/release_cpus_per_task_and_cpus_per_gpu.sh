#!/bin/bash
# corpus: --cpus-per-task with --cpus-per-gpu: the GRES check refuses it in 22.05, option validation (fatal) in 24.11 and 26.05
# corpus-expect: refused
#SBATCH -p gpu --gpus=1 -c 2 --cpus-per-gpu=2

srun true
