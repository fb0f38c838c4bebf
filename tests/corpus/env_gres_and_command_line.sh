#!/bin/bash
# corpus: SBATCH_GPUS_PER_NODE=1 on every `:` component, the command line overriding one
# corpus-args: -p gpu : -p cpu
# corpus-env: SBATCH_GPUS_PER_NODE=1
# corpus-expect: rejected

srun true
