#!/usr/bin/env bash
# The steps of gauntlet's CI job, run from a proxy's repository: run the proxy's scenario against
# staging URLs given by the environment, compare the run with the main branch's last results when
# they were fetched, gather both Markdown summaries into one comment file, and exit with the code
# the job must fail on. The GitHub action (action.yml at gauntlet's root) and the GitLab example
# (ci/examples/gitlab-ci.yml, with this file in the container image as `gauntlet-ci`) both call it,
# so the two platforms run the same steps; fetching main's results and posting the comment stay
# with each platform, since only they differ.
#
# Environment (only GAUNTLET_SCENARIO is required):
#   GAUNTLET                 the binary (default: gauntlet on PATH)
#   GAUNTLET_SCENARIO        the scenario file, in the proxy's repository
#   GAUNTLET_CANDIDATE_URL   the proxy under test; replaces the URL of the target named
#                            GAUNTLET_CANDIDATE_NAME (default `candidate`), whose headers are kept
#   GAUNTLET_BASELINE_URL    the path it replaces: with it the run compares two paths
#                            (--candidate NAME=URL --baseline NAME=URL), named by
#                            GAUNTLET_BASELINE_NAME (default `baseline`)
#   GAUNTLET_ALLOW_HOSTS     staging hosts outside loopback/private networks that may be loaded,
#                            separated by spaces or commas
#   GAUNTLET_MAIN_RESULTS    the main branch's last results.json; absent or missing: no comparison
#   GAUNTLET_OUT             where everything is written (default gauntlet-out): run/ (the run
#                            folder), vs-main/ (the comparison), comment.md, exit-code
#   GAUNTLET_ARGS            more `gauntlet run` flags (split on spaces), e.g. `--duration 60s`
#   GAUNTLET_COMPARE_ARGS    more `gauntlet compare` flags, e.g. `--force` when a pull request
#                            changes the scenario (compare refuses runs of another scenario)
#
# Exit code: 0 when the run and the comparison both passed; otherwise the most serious of their
# codes, in this order: 130 (interrupted), 2 (the harness could not do what was asked: its
# figures cannot be trusted), 1 (a gate failed), 3 (inconclusive without gates, which is not a
# pass). Any non-zero code fails the job; the comment file is written in every case.
set -u

gauntlet=${GAUNTLET:-gauntlet}
scenario=${GAUNTLET_SCENARIO:-}
out=${GAUNTLET_OUT:-gauntlet-out}
candidate_name=${GAUNTLET_CANDIDATE_NAME:-candidate}
baseline_name=${GAUNTLET_BASELINE_NAME:-baseline}
candidate_url=${GAUNTLET_CANDIDATE_URL:-}
baseline_url=${GAUNTLET_BASELINE_URL:-}
main_results=${GAUNTLET_MAIN_RESULTS:-}
allow_hosts=${GAUNTLET_ALLOW_HOSTS:-}

say() { echo "gauntlet-ci: $*" >&2; }

if [ -z "$scenario" ]; then
  say "GAUNTLET_SCENARIO is not set: the scenario file in this repository"
  exit 2
fi
if [ -n "$baseline_url" ] && [ -z "$candidate_url" ]; then
  say "GAUNTLET_BASELINE_URL is set without GAUNTLET_CANDIDATE_URL: a comparison needs both paths"
  exit 2
fi

# Earlier results in the same folder would be mistaken for this run's (a re-run job keeps them).
mkdir -p "$out" && rm -rf "$out/run" "$out/vs-main" "$out/comment.md" "$out/exit-code" || exit 2

args=(run "$scenario" --quiet --out "$out/run")
if [ -n "$baseline_url" ]; then
  args+=(--candidate "$candidate_name=$candidate_url" --baseline "$baseline_name=$baseline_url")
elif [ -n "$candidate_url" ]; then
  args+=(--target "$candidate_name=$candidate_url")
fi
for host in ${allow_hosts//,/ }; do
  args+=(--allow-host "$host")
done
# Split on purpose: the variable holds several flags.
# shellcheck disable=SC2206
args+=(${GAUNTLET_ARGS:-})

# `run` validates the scenario first (exit 2 with positioned diagnostics, before any load) and
# writes every report into run/: results.json, index.html, junit.xml, summary.md and the .hlog
# files.
say "$gauntlet ${args[*]}"
"$gauntlet" "${args[@]}"
run_code=$?

compare_code=
compare_note=
if [ -z "$main_results" ]; then
  compare_note="No results of the main branch were given (GAUNTLET_MAIN_RESULTS): not compared."
elif [ ! -f "$main_results" ]; then
  compare_note="The main branch's results ($main_results) were not found (its first run, or the artifact expired): not compared."
elif [ ! -f "$out/run/results.json" ]; then
  compare_note="This run wrote no results (exit $run_code): not compared with the main branch."
else
  # shellcheck disable=SC2206
  # --base-role candidate: of a two-path run on main, the candidate path (main's proxy) is what
  # this change is judged against, not the legacy path the run itself already compared with.
  compare_args=(compare "$main_results" "$out/run/results.json" --out "$out/vs-main" --base-role candidate ${GAUNTLET_COMPARE_ARGS:-})
  say "$gauntlet ${compare_args[*]}"
  "$gauntlet" "${compare_args[@]}"
  compare_code=$?
fi

# The most serious of the two codes decides the job.
code=0
for c in 130 2 1 3; do
  if [ "$run_code" = "$c" ] || [ "$compare_code" = "$c" ]; then
    code=$c
    break
  fi
done
if [ "$code" = 0 ] && [ "$run_code" != 0 ]; then code=$run_code; fi
if [ "$code" = 0 ] && [ -n "$compare_code" ] && [ "$compare_code" != 0 ]; then code=$compare_code; fi

meaning() {
  case "$1" in
    0) echo "passed" ;;
    1) echo "a gate failed" ;;
    2) echo "harness error" ;;
    3) echo "inconclusive" ;;
    130) echo "interrupted" ;;
    *) echo "unexpected exit" ;;
  esac
}

# One comment for the pull request: a marker (one per scenario) by which a later run finds and
# updates it, this run's summary, then the comparison with main's; each summary.md already starts
# with its own heading and verdict.
{
  echo "<!-- gauntlet-ci: $scenario -->"
  if [ -f "$out/run/summary.md" ]; then
    cat "$out/run/summary.md"
    echo
  else
    echo "## gauntlet: no summary"
    echo
    echo "The run wrote no summary (exit $run_code, $(meaning "$run_code")); the job log says why."
  fi
  echo
  echo "### Compared with the main branch's last run"
  echo
  if [ -f "$out/vs-main/summary.md" ]; then
    cat "$out/vs-main/summary.md"
    echo
  elif [ -n "$compare_code" ]; then
    echo "The comparison wrote no summary (exit $compare_code, $(meaning "$compare_code")); the job log says why."
  else
    echo "$compare_note"
  fi
  echo
  compared="none"
  if [ -n "$compare_code" ]; then compared="exit $compare_code ($(meaning "$compare_code"))"; fi
  echo "<sub>run: exit $run_code ($(meaning "$run_code")) · comparison with main: $compared · job: exit $code ($(meaning "$code"))</sub>"
} >"$out/comment.md"
echo "$code" >"$out/exit-code"

say "run: exit $run_code; comparison with main: $compared; job: exit $code ($(meaning "$code"))"
say "comment: $out/comment.md"
exit "$code"
