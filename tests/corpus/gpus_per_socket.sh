#!/bin/bash
# corpus: --gpus-per-socket=1 --sockets-per-node=1 (tres_per_socket)
# corpus-expect: accepted
#SBATCH -p gpu --gpus-per-socket=1 --sockets-per-node=1

srun true
