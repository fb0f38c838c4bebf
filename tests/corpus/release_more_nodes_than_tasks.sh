#!/bin/bash
# corpus: -N 3 -n 2: sbatch lowers the node count, with "Warning:" in 22.05 and "warning:" in 24.11 and 26.05
# corpus-expect: accepted
#SBATCH -p cpu -N 3 -n 2

srun true
