#!/bin/bash
# demo-title: 11. bob's GPU job, charged to his default account chem
# demo-user: bob
# demo-expect: REJECTED
# demo-args: -p gpu --gres=gpu:1
#
# Partition gpu is only for account physics (partitions.gpu.allow in
# policy.yaml). bob gives no -A, so the job is charged to his default
# account in slurmdbd, chem, and refused.

echo "should not run"
