#!/bin/bash
# corpus: --gres=gres:gpu:1: 22.05 reads `gres:` as the type prefix; 24.11 and 26.05 prefix `gres/` and read a GRES named `gres`
# corpus-expect: accepted
# corpus-expect-24.11: refused
# corpus-expect-26.05: refused
#SBATCH -p gpu --gres=gres:gpu:1

srun true
