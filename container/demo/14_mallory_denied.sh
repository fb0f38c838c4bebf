#!/bin/bash
# demo-title: 14. mallory, denied everywhere, submits a plain CPU job
# demo-user: mallory
# demo-expect: REJECTED
# demo-args: -p cpu
#
# deny in policy.yaml refuses every job of user mallory with the site's
# message, whatever the job asks for.

echo "should not run"
