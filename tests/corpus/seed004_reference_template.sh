#!/bin/bash
# corpus: seed 004's reference template on the gpu partition: --account, --gpus-per-node, --time HH:MM:SS, --qos, --signal, --requeue
# corpus-expect: accepted
#SBATCH --job-name=climate-run
#SBATCH --account=climate_ops
#SBATCH --partition=gpu
#SBATCH --nodes=1
#SBATCH --gpus-per-node=2
#SBATCH --time=06:00:00
#SBATCH --qos=gpu
#SBATCH --signal=B:USR1@120
#SBATCH --requeue

trap "echo checkpoint" USR1 TERM
srun echo run
