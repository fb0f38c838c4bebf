#!/bin/bash
# corpus: --time=0 means no limit to sbatch
# corpus-expect: rejected
#SBATCH -p cpu --time=0

srun true
