#!/bin/bash
# corpus: --mem on component 0 and --mem-per-cpu on component 1: sbatch gives up
# corpus-expect: refused
#SBATCH -p cpu --mem=8G
#SBATCH hetjob
#SBATCH -p cpu --mem-per-cpu=1G

srun true
