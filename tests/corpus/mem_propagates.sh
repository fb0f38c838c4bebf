#!/bin/bash
# corpus: --mem on component 0 also applies to component 1 (sbatch propagates --mem)
# corpus-expect: accepted
#SBATCH -p cpu --mem=8G
#SBATCH hetjob
#SBATCH -p gpu --gres=gpu:1

srun true
