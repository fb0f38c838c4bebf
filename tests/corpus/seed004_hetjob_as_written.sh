#!/bin/bash
# corpus: seed 004's hetjob section as written: --het-group in #SBATCH lines, which sbatch refuses; eval shows the header meant
# corpus-expect: refused
#SBATCH hetjob
#SBATCH --het-group=1 --nodes=1 --cpus-per-task=8 --gpus=0
#SBATCH --het-group=2 --nodes=4 --gpus-per-node=4

srun --het-group=1 prep-data.sh
srun --het-group=2 train-model.sh
