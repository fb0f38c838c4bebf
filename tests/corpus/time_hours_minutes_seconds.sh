#!/bin/bash
# corpus: -t 24:00:01: one second over QOS normal's day
# corpus-expect: rejected
#SBATCH -p cpu -t 24:00:01

srun true
