#!/bin/bash
# corpus: a node count list (-N 1,2): 24.11 and 26.05 read it as a job size list, 22.05 refuses it
# corpus-expect: accepted
# corpus-expect-22.05: refused
#SBATCH -p cpu -N 1,2

srun true
