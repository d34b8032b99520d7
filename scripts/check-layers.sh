#!/bin/bash
# check-layers.sh - the floors of the tree (docs/architecture.md): each
# directory may include only the directories listed for it, and no
# directory includes another's private header. Prints every include that
# breaks the rule and exits 1 if there is one.
set -u
cd "$(dirname "$0")/.." || exit 2

# directory: what its files may include (besides themselves)
declare -A may=(
	[lib]=""
	[include/tandem]="lib tandem"
	[pr-sync]="lib tandem"
	[alua]="lib tandem"
	[conf]="lib tandem alua"
	[backstores]="lib tandem"
	[scsi]="lib tandem pr-sync alua"
	[iscsi]="lib tandem"
	[srp]="lib tandem"
	[kernel]="lib tandem"
	[ctl]="lib tandem conf alua"
	[agentd]="lib tandem"
	[targetd]="lib tandem conf ctl agentd"
)
# private headers: only their own directory (and the tests) include them
private="conf/conf_lex.h scsi/scsi_int.h pr-sync/pr_int.h iscsi/iscsi_int.h srp/srp_iu.h srp/srp_int.h kernel/lio.h kernel/kernel_int.h kernel/tcmu_ring.h backstores/bs_internal.h agentd/sync.h agentd/cluster_msg.h agentd/agentd.h targetd/daemon.h targetd/cluster_conf.h targetd/metrics.h"

bad=0
for dir in "${!may[@]}"; do
	self=${dir#include/}
	for f in "$dir"/*.[ch]; do
		[ -f "$f" ] || continue
		while IFS= read -r inc; do
			top=${inc%%/*}
			ok=0
			[ "$top" = "$self" ] && ok=1
			for m in ${may[$dir]}; do [ "$top" = "$m" ] && ok=1; done
			for p in $private; do
				[ "$inc" = "$p" ] && [ "$top" != "$self" ] && ok=0
			done
			if [ $ok -eq 0 ]; then
				echo "$f includes \"$inc\": $dir may include only ${may[$dir]:-nothing else}"
				bad=1
			fi
		done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
	done
done
[ $bad -eq 0 ] && echo "layers: every include follows the floors"
exit $bad
