#!/bin/bash
# demo-title: 7a. a plain job asking for a GPU on the cpu partition
# demo-expect: REJECTED
# demo-args: -p cpu --gres=gpu:1
#
# Not a hetjob: the policy's partition/GRES rule applies to plain jobs too.

echo "should not run"
