#!/bin/bash
# demo-title: 15b. the same 9 hours as a batch job
# demo-expect: ACCEPTED
# demo-args: -p cpu -t 9:00:00
#
# The 8-hour cap is for interactive jobs only; QOS normal allows a day.

echo "a 9-hour batch job runs on $SLURMD_NODENAME"
