#!/bin/bash
# demo-title: 6. two GPUs under QOS normal
# demo-expect: REJECTED
# demo-args: -p gpu --qos=normal --gres=gpu:2
#
# The request is on the command line (demo-args above): QOS "normal" allows
# one GPU per component, and this job asks for two on its node.

echo "GPU job on $SLURMD_NODENAME, CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES"
