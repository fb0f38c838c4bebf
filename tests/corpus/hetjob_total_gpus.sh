#!/bin/bash
# corpus: gpu:2 in component 0 and gpu:1 in component 1: hetjob.max_total_gres
# corpus-expect: rejected
#SBATCH -p gpu --gres=gpu:2
#SBATCH hetjob
#SBATCH -p gpu --gres=gpu:1

srun true
