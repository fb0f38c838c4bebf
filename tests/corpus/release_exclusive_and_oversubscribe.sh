#!/bin/bash
# corpus: --exclusive with --oversubscribe: accepted by 22.05, fatal in 24.11 and 26.05
# corpus-expect: accepted
# corpus-expect-24.11: refused
# corpus-expect-26.05: refused
#SBATCH -p cpu --exclusive --oversubscribe

srun true
