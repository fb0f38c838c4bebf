#!/bin/bash
# corpus: --gpus-per-socket without --sockets-per-node: sbatch refuses it before submitting
# corpus-expect: refused
#SBATCH -p gpu --gpus-per-socket=1

srun true
