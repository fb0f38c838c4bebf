#!/bin/bash
# corpus: seed 003 without --qpu on the quantum component: sbatch replays component 0's --qpu into it
# corpus-expect: accepted
#SBATCH --qpu=ibm_torino
#SBATCH --partition cpu
#SBATCH hetjob
#SBATCH --gres=qpu:1
#SBATCH --partition quantum

srun --het-group=1 echo task_runner
