#!/usr/bin/env bash
# Runs every benchmark; `--quick` for the small runs CI uses to keep them working (figures not asserted).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mode=${1:-}
echo "== 1. throughput vs a bare echo bot";      $PY -m bench.throughput $mode
echo "== 2. latency per kind of update";         $PY -m bench.latency $mode --postgres
echo "== 3. reminder sweep at scale";            $PY -m bench.sweep_scale $mode
echo "== 4. drain 2,000 due reminders";          $PY -m bench.drain $mode
echo "== 5. one noisy person vs everyone else";   $PY -m bench.noisy $mode
echo "== 6. an answer during a 2,000-reminder drain"; $PY -m bench.answer_during_drain $mode
echo "== supporting: one statement, one API call"; $PY -m bench.io_costs $mode
echo "== supporting: the sweep's claim part by part"; $PY -m bench.sweep_parts $mode
echo "== supporting: rendering in each language"; $PY -m bench.i18n_render $mode
echo "== supporting: a round trip's CPU and statements"; $PY -m bench.round_trip_costs $mode
echo "== supporting: one statement by the path it takes"; $PY -m bench.statement_paths $mode
