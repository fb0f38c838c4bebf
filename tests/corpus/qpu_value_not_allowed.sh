#!/bin/bash
# corpus: --qpu=ibm_nowhere: the SPANK plugin stops sbatch before anything is sent
# corpus-expect: refused
#SBATCH -p quantum --gres=qpu:1 --qpu=ibm_nowhere

srun true
