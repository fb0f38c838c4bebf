#!/bin/bash
# corpus: --time=UNLIMITED is over every finite max_time
# corpus-expect: rejected
#SBATCH -p gpu --gres=gpu:1 --time=UNLIMITED

srun true
