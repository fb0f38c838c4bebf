#!/bin/bash
# corpus: seed 000's CPU+GPU hetjob as written (partitions renamed cpu/gpu): accepted, but the script branches on SLURM_HET_GROUP_ID, which eval reports
# corpus-expect: accepted
#SBATCH --job-name=hetero_example

# Component 1: CPU-only
#SBATCH --partition=cpu
#SBATCH --ntasks=2
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G

#SBATCH hetjob

# Component 2: GPU
#SBATCH --partition=gpu
#SBATCH --gres=gpu:1
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=2
#SBATCH --mem=16G


echo "This is component $SLURM_HET_GROUP_ID of the heterogeneous job"

if [ "$SLURM_HET_GROUP_ID" -eq 0 ]; then
    echo "Running CPU-only component"
else
    echo "Running GPU component"
fi
