#!/bin/bash
# corpus: --time=90:30 (minutes:seconds, rounded up)
# corpus-expect: accepted
#SBATCH -p cpu --time=90:30

srun true
