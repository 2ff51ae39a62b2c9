#!/bin/sh
# sensor.sh: an exec sensor in POSIX shell that answers every request with
# SIZE random bytes (default 1024) read from /dev/urandom.
#
#   peernet client ... --sensor-type 'exec:sh peernet_go/examples/exec/sensor.sh 1024'
#
# The exec protocol (see package subprocess): each request is a 4-byte
# big-endian length and that many bytes; a sensor request has length 0, so
# it is exactly 4 bytes. Each reply is a 4-byte big-endian length and the
# sample. dd reads exactly the 4 request bytes per loop (a buffered reader
# could swallow the next request); when peernet closes the pipe dd reads
# nothing and the loop ends.
set -eu
size=${1:-1024}
case $size in
	'' | *[!0-9]*) echo "sensor.sh: size \"$size\" is not a number" >&2; exit 2 ;;
esac
# The length prefix as printf octal escapes, big-endian.
prefix=$(printf '\\%03o\\%03o\\%03o\\%03o' \
	$((size >> 24 & 255)) $((size >> 16 & 255)) $((size >> 8 & 255)) $((size & 255)))
while [ "$(dd bs=4 count=1 iflag=fullblock status=none | wc -c)" -eq 4 ]; do
	printf "$prefix"
	head -c "$size" /dev/urandom
done
