#!/bin/sh
# MixMonitor's post-process command for call recordings (dialplan_templates/recording.conf.j2).
# Asterisk runs it when a recording file is closed, inside its own view of the file system (it may
# be chrooted: only the shell and coreutils are at hand, no Python).
# Usage: svc-rec-done.sh DIR NAME CALLID POLICY
#   DIR/incoming/NAME.wav    the finished recording
#   DIR/incoming/CALLID.meta what was learnt during the call (agent=, keep=, pause=, resume=)
# on_demand without a keep= line: both are deleted now, so nothing of the call stays on disk.
# Otherwise both move into DIR/done/ (the .meta first: the worker takes a .wav as soon as it appears).
set -u
dir=$1 name=$2 call=$3 policy=$4
wav="$dir/incoming/$name.wav"
meta="$dir/incoming/$call.meta"
if [ "$policy" = on_demand ] && ! grep -qs '^keep=' "$meta"; then
    rm -f "$wav" "$meta"
    exit 0
fi
mkdir -p "$dir/done"
if [ -e "$meta" ]; then
    mv "$meta" "$dir/done/$name.meta"
fi
mv "$wav" "$dir/done/$name.wav"
