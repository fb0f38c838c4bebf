#!/bin/bash
# corpus: --output on component 0 only: sbatch copies it into component 1
# corpus-expect: accepted
#SBATCH -p cpu --output=corpus-%j.out
#SBATCH hetjob
#SBATCH -p gpu --gres=gpu:1

srun true
