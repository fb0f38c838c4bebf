#!/bin/bash
# corpus: --cpus-per-gpu without a GPU: 22.05 sends it, 24.11 and 26.05 refuse it in sbatch
# corpus-expect: accepted
# corpus-expect-24.11: refused
# corpus-expect-26.05: refused
#SBATCH -p cpu --cpus-per-gpu=2

srun true
