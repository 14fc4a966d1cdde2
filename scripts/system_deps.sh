#!/usr/bin/env bash
# Installs the system programs the project uses, from Debian's packages, where they are missing:
#   dot       (package graphviz)  server-side SVG/PNG export of the block diagrams
#   chromium  (package chromium)  the end-to-end tests' real browser, driven by Playwright
# Usage: system_deps.sh [--optional] [dot|chromium ...]   (default: both, required)
# With --optional a missing program only prints a note (the app then offers DOT text alone).
set -euo pipefail
optional=0
if [ "${1:-}" = "--optional" ]; then optional=1; shift; fi
wanted=("$@"); [ ${#wanted[@]} -gt 0 ] || wanted=(dot chromium)

declare -A package=([dot]=graphviz [chromium]=chromium)
missing=()
for prog in "${wanted[@]}"; do
  command -v "$prog" >/dev/null 2>&1 || missing+=("${package[$prog]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo"; else sudo="none"; fi
if [ "$sudo" != "none" ] && command -v apt-get >/dev/null; then
  echo "Installing ${missing[*]} from Debian's packages ..."
  if $sudo apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 || \
     { $sudo apt-get update -qq && $sudo apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
    exit 0
  fi
fi
msg="Missing: ${missing[*]}. Install with: sudo apt-get install ${missing[*]}"
if [ $optional -eq 1 ]; then echo "Note: $msg (diagram SVG/PNG export is off until then; DOT export still works)"; exit 0; fi
echo "$msg" >&2; exit 1
