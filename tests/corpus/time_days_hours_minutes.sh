#!/bin/bash
# corpus: -t 1-00:01 (days-hours:minutes)
# corpus-expect: rejected
#SBATCH -p cpu -t 1-00:01

srun true
