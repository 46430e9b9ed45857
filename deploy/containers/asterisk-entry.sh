#!/bin/sh
# Asterisk 22 in the foreground on the configuration the orchestrator wrote into the state volume.
set -eu
instance="${SVC_STATE_DIR:?}/asterisk/${SVC_INSTANCE:-dev}"
conf="$instance/etc/asterisk.conf"
if [ ! -f "$conf" ]; then
  echo "no $conf: run \`orchestrator asterisk prepare\` first (the pod's init container does)" >&2
  exit 1
fi
# Left by a container that was killed: Asterisk would refuse its control socket.
rm -f "$instance/var/run/asterisk.ctl" "$instance/var/run/asterisk.pid"
exec /usr/sbin/asterisk -f -C "$conf"
