#!/bin/bash
# corpus: --tres-per-task (24.11 and 26.05; unknown to 22.05) with -c: tres_per_task cpu=2,gres/gpu=1 for 2 tasks
# corpus-expect: accepted
# corpus-expect-22.05: refused
#SBATCH -p gpu -n 2 -c 2 --tres-per-task=gres/gpu=1

srun true
