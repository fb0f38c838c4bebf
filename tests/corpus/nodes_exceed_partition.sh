#!/bin/bash
# corpus: -N 2 on the one-node cpu partition: accepted, and pends forever (eval reports it)
# corpus-expect: accepted
#SBATCH -p cpu -N 2

srun true
