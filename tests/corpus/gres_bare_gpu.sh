#!/bin/bash
# corpus: --gres=gpu without a count is one GPU (tres_per_node gres:gpu)
# corpus-expect: accepted
#SBATCH -p gpu --gres=gpu --qos=normal

srun true
