#!/bin/bash
# corpus: the old `packjob` separator: each release warns in its own words
# corpus-expect: accepted
#SBATCH -p cpu
#SBATCH packjob
#SBATCH -p gpu --gres=gpu:1

srun true
