#!/bin/bash
# demo-title: 4. hetjob with --output only on component 0
# demo-expect: ACCEPTED
#
# The right place for a hetjob's --output: component 0. sbatch propagates it
# to the later components, so every component agrees and the policy accepts.

#SBATCH --job-name=het_output_comp0

# Component 0: --output here applies to the whole hetjob
#SBATCH --partition=cpu
#SBATCH --ntasks=1
#SBATCH --output=demo4-%j.out

#SBATCH hetjob

# Component 1
#SBATCH --partition=gpu
#SBATCH --gres=gpu:1
#SBATCH --ntasks=1

srun --het-group=0 bash -c 'echo "CPU component on $SLURMD_NODENAME"'
srun --het-group=1 bash -c 'echo "GPU component on $SLURMD_NODENAME, CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES"'
