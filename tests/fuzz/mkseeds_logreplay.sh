#!/bin/bash
# mkseeds_logreplay.sh - writes the seed logs of fuzz_logreplay (small
# dm-log-writes logs, tests/vm/lwlog.h gives the layout) into DIR:
#   tiny     512-byte sectors, 8 entries: a write, a flush, a FUA write of
#            2 sectors, mark b01, a discard, a METADATA write, a write
#            with FLUSH, mark b02
#   big4k    4096-byte sectors, 3 entries: a write, a flush, mark setup
#   empty    512-byte sectors, a super block announcing no entry
#
#   tests/fuzz/mkseeds_logreplay.sh DIR     (make fuzz-seeds runs it)
set -euo pipefail

[ $# -eq 1 ] || {
	echo "usage: $0 DIR" >&2
	exit 2
}
mkdir -p "$1"

# log SECTOR_SIZE ENTRY... > FILE, each ENTRY "sector:nr:flags[:mark]";
# a write's data is its nr sectors, each filled with one byte (its entry
# number + 'A')
log() {
	perl -e '
		my $ss = shift;
		my $out = pack("Q<Q<Q<L<", 0x6a736677736872, 1, scalar(@ARGV), $ss);
		$out .= "\0" x ($ss - length($out));
		my $n = 0;
		for (@ARGV) {
			my ($sec, $nr, $fl, $mark) = split /:/;
			$mark //= "";
			my $h = pack("Q<Q<Q<Q<", $sec, $nr, $fl, length($mark)) . $mark;
			$out .= $h . "\0" x ($ss - length($h));
			$out .= chr(65 + $n) x ($ss * $nr) unless $fl & 4;
			$n++;
		}
		print $out;' "$@"
}

# flags: FLUSH 1, FUA 2, DISCARD 4, MARK 8, METADATA 16
log 512 0:1:0 0:0:1 2:2:2 0:0:8:b01 4:2:4 1:1:16 6:1:1 0:0:8:b02 >"$1/tiny"
log 4096 3:1:0 0:0:1 0:0:8:setup >"$1/big4k"
log 512 >"$1/empty"
