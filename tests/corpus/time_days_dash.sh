#!/bin/bash
# corpus: --time=2- (days only, accepted by sbatch) on gpu, whose QOS allows 2 days
# corpus-expect: accepted
#SBATCH -p gpu --gres=gpu:1 --time=2-

srun true
