#!/bin/bash
# corpus: the quantum partition without --gres=qpu: partitions.quantum.reserved_for
# corpus-expect: rejected
#SBATCH -p quantum --qpu=ibm_fez

srun true
