#!/bin/bash
# corpus: different -o before and after `:`
# corpus-args: -p cpu -o corpus-a.txt : -p cpu -o corpus-b.txt
# corpus-expect: rejected

srun true
