#!/bin/bash
# corpus: QOS gpu on the cpu partition: partitions.cpu.qos.allowed
# corpus-expect: rejected
#SBATCH -p cpu --qos=gpu

srun true
