#!/bin/bash
# demo-title: 1. seed 000's CPU+GPU hetjob
# demo-expect: ACCEPTED
#
# The heterogeneous job from the site guide (seed 000), with the partitions
# renamed (aoraki -> cpu, aoraki_gpu -> gpu): a CPU-only component and a GPU
# component on the separate GPU partition. Each partition matches what its
# component asks for, so the policy accepts it.
#
# The seed's script branched on SLURM_HET_GROUP_ID, which is unset here: the
# batch script runs ONCE, in component 0. Each component's work is started
# with `srun --het-group=N` instead.

#SBATCH --job-name=hetero_example

# Component 0: CPU-only
#SBATCH --partition=cpu
#SBATCH --ntasks=2
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G

#SBATCH hetjob

# Component 1: GPU
#SBATCH --partition=gpu
#SBATCH --gres=gpu:1
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=2
#SBATCH --mem=16G

echo "The batch script runs once, on $SLURMD_NODENAME (SLURM_HET_SIZE=$SLURM_HET_SIZE)"

# CPU-only component
srun --het-group=0 hostname
srun --het-group=0 bash -c 'echo "CPU component: task $SLURM_PROCID on $SLURMD_NODENAME"'

# GPU component
srun --het-group=1 bash -c 'echo "GPU component: task $SLURM_PROCID on $SLURMD_NODENAME, CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES"'
