#!/bin/bash
# corpus: --gpus=0 on the cpu partition is no GPU request
# corpus-expect: accepted
#SBATCH -p cpu --gpus=0

srun true
