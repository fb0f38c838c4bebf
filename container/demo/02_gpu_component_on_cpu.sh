#!/bin/bash
# demo-title: 2. the same hetjob, GPU component on the cpu partition
# demo-expect: REJECTED
#
# Seed 000's hetjob with the mistake its note warns about: the GPU component
# keeps --partition=cpu, whose nodes have no GPUs. The policy rejects the
# component that asks for GPUs outside the gpu partition. (Without the
# plugin, Slurm itself refuses it later, with the vaguer "Requested node
# configuration is not available".)

#SBATCH --job-name=hetero_wrong_partition

# Component 0: CPU-only
#SBATCH --partition=cpu
#SBATCH --ntasks=2
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G

#SBATCH hetjob

# Component 1: GPU, but on the CPU partition
#SBATCH --partition=cpu
#SBATCH --gres=gpu:1
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=2
#SBATCH --mem=16G

srun --het-group=0 hostname
srun --het-group=1 bash -c 'echo "GPU component on $SLURMD_NODENAME"'
