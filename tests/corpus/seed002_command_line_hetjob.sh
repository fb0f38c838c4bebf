#!/bin/bash
# corpus: seed 002's command line hetjob: --cpus-per-task/--mem-per-cpu/--ntasks per `:` component
# corpus-args: --cpus-per-task=4 --mem-per-cpu=1 --ntasks=128 : --cpus-per-task=1 --mem-per-cpu=16 --ntasks=1
# corpus-expect: accepted

srun run.app
