#!/bin/bash
# corpus: three `:` components on cpu, gpu and quantum
# corpus-args: -p cpu : -p gpu --gres=gpu:1 : -p quantum --gres=qpu:1 --qpu=ibm_fez
# corpus-expect: accepted

srun true
