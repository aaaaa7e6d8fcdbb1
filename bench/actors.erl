#!/usr/bin/env escript
%% -*- erlang -*-
%% The actor workloads of bench/actors.cpp in BEAM, with the same message shapes.
%%
%%   ERL_FLAGS="+S T:T" escript bench/actors.erl NAME N
%%
%% prints "NAME VALUE UNIT" like spindle-actors.
-mode(compile).

main([Name, N]) ->
    Count = list_to_integer(N),
    {Value, Unit} = run(list_to_atom(Name), Count),
    io:format("~s ~.1f ~s~n", [Name, float(Value), Unit]).

run(pingpong, N) -> {pingpong(N), "round_trips/s"};
run(parallel_pingpong, N) -> {parallel_pingpong(N), "round_trips/s"};
run(ring, N) -> {ring(N, 1000), "hops/s"};
run(ring_spawn, N) -> {ring_spawn(N), "processes/s"};
run(spawn, N) -> {spawn_many(N), "spawns/s"};
run(idle_memory, N) -> {idle_memory(N), "bytes/process"};
run(fanin, N) -> {fanin(N), "messages/s"};
run(fanin_named, N) -> {fanin_named(N), "messages/s"}.

rate(Count, StartNative) ->
    Count / (erlang:convert_time_unit(erlang:monotonic_time() - StartNative, native, nanosecond) / 1.0e9).

%% pingpong: the pinger sends N+1 to the ponger, which sends it back.
pinger(Rounds, Partner, Done) ->
    receive
        {partner, P} -> pinger(Rounds, P, Done);
        Rounds -> Done ! done;
        N -> Partner ! N + 1, pinger(Rounds, Partner, Done)
    end.

ponger(Partner) ->
    receive
        {partner, P} -> ponger(P);
        N -> Partner ! N, ponger(Partner)
    end.

spawn_pair(Rounds, Done) ->
    Pong = spawn(fun() -> ponger(undefined) end),
    Ping = spawn(fun() -> pinger(Rounds, Pong, Done) end),
    Pong ! {partner, Ping},
    Ping.

pingpong(N) ->
    Ping = spawn_pair(N, self()),
    Start = erlang:monotonic_time(),
    Ping ! 0,
    receive done -> ok end,
    rate(N, Start).

parallel_pingpong(N) ->
    Pairs = 4 * erlang:system_info(schedulers_online),
    PerPair = max(1, N div Pairs),
    Pings = [spawn_pair(PerPair, self()) || _ <- lists:seq(1, Pairs)],
    Start = erlang:monotonic_time(),
    [P ! 0 || P <- Pings],
    [receive done -> ok end || _ <- Pings],
    rate(PerPair * Pairs, Start).

%% ring: members forward Hops - 1 to the next; the one that gets 0 reports.
member(Next, Done) ->
    receive
        {next, N} -> member(N, Done);
        0 -> Done ! done, member(Next, Done);
        Hops -> Next ! Hops - 1, member(Next, Done)
    end.

ring(Hops, Size) ->
    Self = self(),
    Pids = [spawn(fun() -> member(undefined, Self) end) || _ <- lists:seq(1, Size)],
    [P ! {next, Next} || {P, Next} <- lists:zip(Pids, tl(Pids) ++ [hd(Pids)])],
    Start = erlang:monotonic_time(),
    hd(Pids) ! Hops,
    receive done -> ok end,
    Result = rate(Hops, Start),
    [exit(P, kill) || P <- Pids],
    Result.

%% ring_spawn: a builder spawns a chain of N members ending at `finish`, then sends N.
ring_spawn(N) ->
    Self = self(),
    Finish = spawn(fun() -> member(undefined, Self) end),
    Builder = spawn(fun() ->
                            receive go -> ok end,
                            Head = lists:foldl(fun(_, Next) -> spawn(fun() -> member(Next, Self) end) end,
                                               Finish, lists:seq(1, N)),
                            Head ! N
                    end),
    Start = erlang:monotonic_time(),
    Builder ! go,
    receive done -> ok end,
    rate(N, Start).

%% spawn: a spawner starts N processes; each reports once to a counter and exits.
counter(0, Done) -> Done ! done;
counter(Left, Done) -> receive _ -> counter(Left - 1, Done) end.

spawn_many(N) ->
    Self = self(),
    Counter = spawn(fun() -> counter(N, Self) end),
    Spawner = spawn(fun() ->
                            receive go -> ok end,
                            [spawn(fun() -> Counter ! 1 end) || _ <- lists:seq(1, N)]
                    end),
    Start = erlang:monotonic_time(),
    Spawner ! go,
    receive done -> ok end,
    rate(N, Start).

%% idle_memory: resident memory (from the OS, as spindle-actors measures) per idle process.
resident_bytes() ->
    [_, Resident | _] = string:lexemes(os:cmd("cat /proc/" ++ os:getpid() ++ "/statm"), " \n"),
    list_to_integer(Resident) * 4096.

idle_memory(N) ->
    erlang:garbage_collect(),
    Holder = lists:seq(1, N),  % the list that will hold the pids, built before measuring
    Before = resident_bytes(),
    Pids = [spawn(fun() -> receive stop -> ok end end) || _ <- Holder],
    timer:sleep(200),
    After = resident_bytes(),
    [P ! stop || P <- Pids],
    (After - Before) / N.

%% fanin: 2 x schedulers producers send N messages each to one counter.
producer(0, _) -> ok;
producer(Left, Sink) -> Sink ! Left, producer(Left - 1, Sink).

fanin(N) ->
    Producers = 2 * erlang:system_info(schedulers_online),
    Self = self(),
    Sink = spawn(fun() -> counter(N * Producers, Self) end),
    Start = erlang:monotonic_time(),
    [spawn(fun() -> producer(N, Sink) end) || _ <- lists:seq(1, Producers)],
    receive done -> ok end,
    rate(N * Producers, Start).

%% fanin_named: the same, the counter registered and the producers sending to its name.
fanin_named(N) ->
    Producers = 2 * erlang:system_info(schedulers_online),
    Self = self(),
    Sink = spawn(fun() -> counter(N * Producers, Self) end),
    true = register(fanin_sink, Sink),
    Start = erlang:monotonic_time(),
    [spawn(fun() -> producer(N, fanin_sink) end) || _ <- lists:seq(1, Producers)],
    receive done -> ok end,
    rate(N * Producers, Start).
