#!/bin/bash
# corpus: seed 004's hetjob rewritten as eval suggests, sized for the test cluster (--gpus=0 on the CPU component)
# corpus-expect: accepted
#SBATCH -p cpu --nodes=1 --cpus-per-task=8 --gpus=0
#SBATCH hetjob
#SBATCH -p gpu --nodes=1 --gpus-per-node=2

srun --het-group=0 echo prep-data
srun --het-group=1 echo train-model
