#!/bin/bash
# demo-title: 5. --qos=long on the gpu partition
# demo-expect: REJECTED
#
# A plain job asking for QOS "long" on the gpu partition. The policy allows
# that QOS only on other partitions, so the job is rejected. (This cluster
# runs without accounting, so Slurm itself accepts any QOS name and ignores
# it: the verdict is the plugin's alone.)

#SBATCH --job-name=qos_long_gpu
#SBATCH --partition=gpu
#SBATCH --qos=long
#SBATCH --gres=gpu:1

echo "GPU job on $SLURMD_NODENAME"
