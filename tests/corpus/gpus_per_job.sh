#!/bin/bash
# corpus: --gpus=3 (tres_per_job): over the gpu QOS's 2
# corpus-expect: rejected
#SBATCH -p gpu --gpus=3

srun true
