#!/bin/bash
# corpus: -o after `:` on the command line also reaches component 0, so both agree
# corpus-args: -p cpu : -p cpu -o corpus-b.txt
# corpus-expect: accepted

srun true
