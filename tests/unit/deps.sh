#!/bin/sh
# deps.sh FILE.deps - print the sources a unit test links; a line naming another .deps file includes it.
for line in $(cat "$1"); do
    case "$line" in
    *.deps) sh "$0" "$line" ;;
    *) echo "$line" ;;
    esac
done | sort -u
