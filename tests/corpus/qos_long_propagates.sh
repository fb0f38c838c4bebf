#!/bin/bash
# corpus: --qos=long on component 0 propagates to the gpu component, where it is not allowed
# corpus-expect: rejected
#SBATCH -p cpu --qos=long
#SBATCH hetjob
#SBATCH -p gpu --gres=gpu:1

srun true
