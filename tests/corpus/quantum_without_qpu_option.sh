#!/bin/bash
# corpus: --gres=qpu:1 on quantum without --qpu: options.qpu.required_on
# corpus-expect: rejected
#SBATCH -p quantum --gres=qpu:1

srun true
