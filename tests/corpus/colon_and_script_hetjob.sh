#!/bin/bash
# corpus: #SBATCH hetjob components with `:` parts on the command line
# corpus-args: --qos=normal : --gres=gpu:2
# corpus-expect: rejected
#SBATCH -p cpu -n 2
#SBATCH hetjob
#SBATCH -p gpu --gres=gpu:1

srun true
