//! Batch scripts several cluster test files submit.
#![allow(dead_code)] // each test file uses its own part

/// Seed 003's hetjob: partition `normal` renamed `cpu`, Python steps
/// replaced by shell commands.
pub const SEED_003: &str = "#!/bin/bash

#SBATCH --qpu=ibm_fez
#SBATCH --job-name=job_split_hetjob
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=1
#SBATCH --partition cpu

#SBATCH hetjob

#SBATCH --gres=qpu:1
#SBATCH --qpu=ibm_fez
#SBATCH --partition quantum

echo \"Starting at `date`\"
echo \"Running on hosts: $SLURM_NODELIST\"
srun --het-group=0 bash -c 'echo map_optimize on $SLURMD_NODENAME'
srun --het-group=1 bash -c 'echo task_runner on $QPU_BACKEND'
srun --het-group=0 bash -c 'echo result'
";
