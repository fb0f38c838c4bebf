#!/bin/bash
# corpus: seed 002's new.bash: the same hetjob in #SBATCH lines, several options on one line
# corpus-expect: accepted
#SBATCH --cpus-per-task=4 --mem-per-cpu=16g --ntasks=1
#SBATCH hetjob
#SBATCH --cpus-per-task=2 --mem-per-cpu=1g  --ntasks=8

srun run.app
