#!/bin/bash
# corpus: --gres=gpu:2 with QOS normal (max 1 gpu): qos.normal.max_gres
# corpus-expect: rejected
#SBATCH -p gpu --gres=gpu:2 --qos=normal

srun true
