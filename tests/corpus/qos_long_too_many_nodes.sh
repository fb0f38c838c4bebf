#!/bin/bash
# corpus: QOS long allows 2 nodes per component
# corpus-expect: rejected
#SBATCH -p cpu --qos=long -N 3

srun true
