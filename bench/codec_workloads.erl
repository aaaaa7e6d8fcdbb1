#!/usr/bin/env escript
%% -*- erlang -*-
%% The codec benchmark's workloads, timed in BEAM.
%%
%%   codec_workloads.erl write DIR        writes term_to_binary(T) of each workload to DIR/NAME.etf
%%   codec_workloads.erl bench SECONDS    times binary_to_term/term_to_binary of each workload for
%%                                        about SECONDS each (after a warm-up), printing
%%                                        "NAME decode|encode OPS_PER_SEC BYTES"
-mode(compile).

main(["write", Dir]) ->
    [ok = file:write_file(filename:join(Dir, atom_to_list(Name) ++ ".etf"), term_to_binary(T))
     || {Name, T} <- workloads()];
main(["bench", Seconds]) ->
    Budget = case string:to_float(Seconds) of
                 {F, ""} -> F;
                 _ -> float(list_to_integer(Seconds))
             end,
    [begin
         Bin = term_to_binary(T),
         report(Name, decode, timed_rate(fun() -> binary_to_term(Bin) end, Budget), byte_size(Bin)),
         report(Name, encode, timed_rate(fun() -> term_to_binary(T) end, Budget), byte_size(Bin))
     end || {Name, T} <- workloads()],
    ok.

workloads() ->
    [{small_message, {ok, self(), make_ref(), [1, 2, 3], <<"hello">>}},
     {binary_1mb, binary:copy(<<"0123456789abcdef">>, 65536)},
     {int_list_100k, lists:seq(1, 100000)},
     {map_10k, maps:from_list([{I, I * 2} || I <- lists:seq(1, 10000)])},
     {nested_100kb, [{person, I, <<"name_", (integer_to_binary(I))/binary>>, [admin, user, I rem 7],
                      #{age => I rem 90, score => I * 1.5, tags => {a, b}}, {I, [I, I + 1]}}
                     || I <- lists:seq(1, 850)]}].

report(Name, Op, Rate, Bytes) ->
    io:format("~s ~s ~.1f ~p~n", [Name, Op, Rate, Bytes]).

%% Operations per second over about Budget seconds, after a short warm-up.
timed_rate(Fun, Budget) ->
    _ = rate(Fun, Budget / 4),
    rate(Fun, Budget).

rate(Fun, Seconds) ->
    Deadline = erlang:monotonic_time() + erlang:convert_time_unit(round(Seconds * 1000), millisecond, native),
    Start = erlang:monotonic_time(),
    N = loop(Fun, Deadline, 0),
    Elapsed = erlang:convert_time_unit(erlang:monotonic_time() - Start, native, nanosecond) / 1.0e9,
    N / Elapsed.

loop(Fun, Deadline, N) ->
    %% Check the clock every 16 calls so small operations are not dominated by it.
    _ = Fun(), _ = Fun(), _ = Fun(), _ = Fun(), _ = Fun(), _ = Fun(), _ = Fun(), _ = Fun(),
    _ = Fun(), _ = Fun(), _ = Fun(), _ = Fun(), _ = Fun(), _ = Fun(), _ = Fun(), _ = Fun(),
    case erlang:monotonic_time() < Deadline of
        true -> loop(Fun, Deadline, N + 16);
        false -> N + 16
    end.
