#!/usr/bin/env bash
# The main job's first steps, also run as a test: a term through spindle-etf (text -> ETF
# -> text), then bytes from Erlang's term_to_binary decoded by it.
#   tools/etf_demo.sh [PATH_TO_SPINDLE_ETF]    (default: build/bin/spindle-etf)
set -euo pipefail
etf=${1:-build/bin/spindle-etf}
term='{ok, [1, 2.5, "str", <<"bin">>, #{a => b}], '\''Quoted atom'\'', 123456789012345678901234567890}.'
echo "== spindle-etf: text -> ETF -> text"
echo "$term"
echo "$term" | "$etf" encode | "$etf" decode
echo "== spindle-etf: bytes from Erlang's term_to_binary, decoded"
# file:write, not io:put_chars: put_chars takes a binary for characters and refuses
# bytes that are not UTF-8.
erl -noshell -eval 'ok = file:write(standard_io, term_to_binary({self(), make_ref(), fun lists:sum/1, #{<<"k">> => [a|b]}, -(1 bsl 100)})), halt().' | "$etf" decode
