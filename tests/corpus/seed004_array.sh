#!/bin/bash
# corpus: seed 004's job array (a plain job: arrays are fine there)
# corpus-expect: accepted
#SBATCH --array=0-999%50
#SBATCH -p cpu

srun echo $SLURM_ARRAY_TASK_ID
