#!/bin/bash
# corpus: --time=90 (minutes)
# corpus-expect: accepted
#SBATCH -p cpu --time=90

srun true
