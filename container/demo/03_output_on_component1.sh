#!/bin/bash
# demo-title: 3. hetjob with --output only on component 1
# demo-expect: REJECTED
#
# Slurm writes a hetjob's batch output through component 0 only: an
# --output given on a later component is silently ignored, and the user looks
# for a file that never appears. The policy rejects a component k>0 whose
# output/error/input differs from component 0's.

#SBATCH --job-name=het_output_comp1

# Component 0: no --output (Slurm's default slurm-%j.out)
#SBATCH --partition=cpu
#SBATCH --ntasks=1

#SBATCH hetjob

# Component 1: --output here is never used by Slurm
#SBATCH --partition=gpu
#SBATCH --gres=gpu:1
#SBATCH --ntasks=1
#SBATCH --output=demo3-component1.out

srun --het-group=0 hostname
srun --het-group=1 bash -c 'echo "GPU component on $SLURMD_NODENAME"'
