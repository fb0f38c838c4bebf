#!/bin/bash
# corpus: -t 6-23:59:59 (days-hours:minutes:seconds) with QOS long
# corpus-expect: accepted
#SBATCH -p cpu -t 6-23:59:59 --qos=long

srun true
