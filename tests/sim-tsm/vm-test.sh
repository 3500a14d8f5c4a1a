#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tests/sim-tsm/vm-test.sh [KO] - run inside a 6.12 guest (tools/katls-vm):
# loads katls_sim_tsm.ko unless the harness already did, runs the
# selftest (built by "make -C tests/sim-tsm selftest" on the host), and,
# if it loaded the module, lets the selftest unload it and check the
# backend's answer when configfs-tsm has no provider.  TAP output.
set -u
here=$(cd "$(dirname "$0")" && pwd)
ko=${1:-$here/katls_sim_tsm.ko}
if [ -d /sys/module/katls_sim_tsm ]; then
	# Loaded by the harness: leave it for the tests that follow.
	exec "$here/sim_tsm_selftest"
fi
if ! insmod "$ko"; then
	echo "1..1"
	echo "not ok 1 - insmod $ko"
	exit 1
fi
exec "$here/sim_tsm_selftest" --unload
