#!/usr/bin/env bash
# The drift job's first check: `pulumi preview --refresh --expect-no-changes --diff` for one stack.
# Its whole output is kept (pulumi/actions throws before it sets its `output` when the preview
# fails, so the diff would be lost), printed to the log, and, when the preview proposes changes or
# fails, written into the job summary. Exits with pulumi's own status.
#
# Usage: scripts/ci/drift-preview.sh STACK   (GITHUB_STEP_SUMMARY and RUNNER_TEMP as on a runner)
set -uo pipefail

stack="${1:?usage: drift-preview.sh STACK}"
out="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/preview-${stack}.txt"
summary="${GITHUB_STEP_SUMMARY:-/dev/null}"
# GitHub caps a step summary at 1 MiB: keep the head of a larger diff and say so.
limit=900000

pulumi preview --stack "$stack" --refresh --expect-no-changes --diff \
  --color never --suppress-progress --non-interactive >"$out" 2>&1
status=$?
cat "$out"

if [ "$status" -ne 0 ]; then
  size=$(wc -c <"$out")
  {
    printf '## pulumi preview on `%s`: changes proposed, or the preview failed (exit %s)\n\n' "$stack" "$status"
    # Four backticks: a diff may hold three.
    echo '````diff'
    head -c "$limit" "$out"
    if [ "$size" -gt "$limit" ]; then
      printf '\n… %s more bytes in the log of this step\n' "$((size - limit))"
    fi
    echo
    echo '````'
  } >>"$summary"
fi
exit "$status"
