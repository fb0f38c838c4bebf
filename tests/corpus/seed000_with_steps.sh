#!/bin/bash
# corpus: seed 000 fixed: each component's work started with srun --het-group
# corpus-expect: accepted
#SBATCH --job-name=hetero_example
#SBATCH --partition=cpu
#SBATCH --ntasks=2
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G
#SBATCH hetjob
#SBATCH --partition=gpu
#SBATCH --gres=gpu:1
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=2
#SBATCH --mem=16G

srun --het-group=0 echo cpu-component
srun --het-group=1 echo gpu-component
