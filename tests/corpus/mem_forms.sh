#!/bin/bash
# corpus: --mem-per-cpu=1500K and --mem=16GB forms
# corpus-args: -p cpu --mem-per-cpu=1500K -n 2 : -p cpu --mem=16GB
# corpus-expect: accepted

srun true
