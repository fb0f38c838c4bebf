#!/bin/bash
# corpus: a GPU on the cpu partition: accelerators.gpu
# corpus-expect: rejected
#SBATCH -p cpu --gres=gpu:1

srun true
