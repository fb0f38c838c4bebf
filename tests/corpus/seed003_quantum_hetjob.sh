#!/bin/bash
# corpus: seed 003's quantum hetjob (partition normal renamed cpu, Python steps replaced by shell commands): --qpu on both components
# corpus-expect: accepted
#SBATCH --qpu=ibm_fez
#SBATCH --job-name=job_split_hetjob
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=1
#SBATCH --partition cpu

#SBATCH hetjob

#SBATCH --gres=qpu:1
#SBATCH --qpu=ibm_fez
#SBATCH --partition quantum

echo "Starting at `date`"
echo "Running on hosts: $SLURM_NODELIST"
srun --het-group=0 echo map_optimize
srun --het-group=1 echo task_runner ibm_fez sampler_input_ibm_fez.json sampler_output_ibm_fez.json
srun --het-group=0 echo result sampler_output_ibm_fez.json
