#!/bin/bash
# corpus: a GPU component that names no partition is routed to gpu (action: route)
# corpus-expect: accepted
#SBATCH --gres=gpu:1

srun true
