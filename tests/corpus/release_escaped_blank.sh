#!/bin/bash
# corpus: a backslash before a blank in #SBATCH: 22.05 splits the word (an invalid directive), 24.11 and 26.05 keep the blank in it
# corpus-expect: refused
# corpus-expect-24.11: accepted
# corpus-expect-26.05: accepted
#SBATCH -p cpu -o out\ file.txt

srun true
