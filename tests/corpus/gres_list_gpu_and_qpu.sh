#!/bin/bash
# corpus: --gres=gpu:1,qpu:1 on gpu: the qpu may only go to quantum
# corpus-expect: rejected
#SBATCH -p gpu --gres=gpu:1,qpu:1

srun true
