#!/bin/bash
# corpus: -t 1-0 (days-hours): exactly QOS normal's day
# corpus-expect: accepted
#SBATCH -p cpu -t 1-0

srun true
