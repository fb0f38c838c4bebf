#!/bin/bash
# corpus: --qos=gpu given after `:` also reaches component 0 (sbatch's first pass), which is on cpu
# corpus-args: -p cpu : -p gpu --gres=gpu:1 --qos=gpu
# corpus-expect: rejected

srun true
