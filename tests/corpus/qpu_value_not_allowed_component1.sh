#!/bin/bash
# corpus: a bad --qpu in component 1's part of the command line
# corpus-args: -p cpu : -p quantum --gres=qpu:1 --qpu=ibm_nowhere
# corpus-expect: refused

srun true
