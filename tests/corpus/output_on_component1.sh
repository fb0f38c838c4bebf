#!/bin/bash
# corpus: --output on component 1 only: io_files.first_component_only (absolute path in the message)
# corpus-expect: rejected
#SBATCH -p cpu
#SBATCH hetjob
#SBATCH -p gpu --gres=gpu:1 --output=gpu-%j.out

srun true
