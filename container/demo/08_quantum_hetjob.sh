#!/bin/bash
# demo-title: 8. seed 003's quantum hetjob, each component with its own QPU
# demo-expect: ACCEPTED
#
# The QPU workflow of seed 003 (partition normal renamed cpu, the Python
# steps replaced by shell commands): a CPU component and a component on the
# quantum partition with --gres=qpu:1. --qpu is a site option that
# spank_hetpolicy.so adds to sbatch. Component 0 says ibm_fez, the quantum
# component its own ibm_torino: its tasks see QPU_BACKEND=ibm_torino.

#SBATCH --qpu=ibm_fez
#SBATCH --job-name=job_split_hetjob
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=1
#SBATCH --partition cpu
#SBATCH --output=demo8-%j.out

#SBATCH hetjob

#SBATCH --gres=qpu:1
#SBATCH --qpu=ibm_torino
#SBATCH --partition quantum

srun --het-group=0 bash -c 'echo "map/optimize on $SLURMD_NODENAME"'
srun --het-group=1 bash -c 'echo "execute on $SLURMD_NODENAME with QPU_BACKEND=$QPU_BACKEND"'
srun --het-group=0 bash -c 'echo "result on $SLURMD_NODENAME"'
