#!/usr/bin/env bash
# The demo site's video files (issue 20), made locally with Debian's ffmpeg (nothing is
# downloaded): a 6 s pre-roll ad and an 8 s in-feed ad (test patterns with a quiet 440/660 Hz
# tone, so an unmuted player is audible) and the 10 s course preview the pre-roll runs before.
# Usage: scripts/demo-videos.sh DIR — writes DIR/{preroll-ad,in-feed-ad,course-preview}.webm,
# each only when missing (a few hundred KB in all; about 10 s of encoding on 2 cores).
set -euo pipefail
dir=${1:?usage: scripts/demo-videos.sh DIR}
mkdir -p "$dir"
command -v ffmpeg >/dev/null || { echo "demo-videos: ffmpeg is required (scripts/ensure.sh demo installs it)" >&2; exit 1; }

make_video() { # name seconds video-source tone-hz
  local out=$dir/$1.webm
  [ -s "$out" ] && return 0
  # Written beside the target and renamed: an interrupted run leaves no half file behind.
  ffmpeg -loglevel error -y -f lavfi -i "$3=size=320x180:rate=15:duration=$2" \
    -f lavfi -i "sine=frequency=$4:sample_rate=48000:duration=$2" -af volume=0.2 \
    -c:v libvpx -b:v 200k -c:a libopus -shortest -f webm "$out.tmp"
  mv "$out.tmp" "$out"
}
make_video preroll-ad 6 testsrc2 440
make_video in-feed-ad 8 testsrc 660
make_video course-preview 10 smptebars 220
