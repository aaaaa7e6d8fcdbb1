%% The BEAM side of the distribution benchmarks (bench/compare_dist.sh), speaking the same
%% protocol as bench/dist_bench.cpp on the Spindle side, so that any driver runs against
%% any server.
%%
%% Server: serve/0 registers bench_server, which answers
%%   {echo, From}    -> From ! {echo, Pid}: Pid answers {From2, X} with From2 ! X
%%   {sink, From, N} -> From ! {sink, Pid}: Pid takes N messages, then From ! {sink_done, N}
%% Driver: drive([Target, Workload, N, Size]) runs one workload against bench_server on
%% node Target, prints "result VALUE" and halts:
%%   pingpong  round trips per second      stream  small messages per second
%%   bulk      megabytes per second (N binaries of Size bytes)
%%   setup     milliseconds per connection set-up (N times: disconnect, then ping)
%%   rpc       rpc:call(Target, dist_bench, echo, [K]) calls per second, one caller
%%   gen_call  gen_server:call({bench_gen, Target}, K) calls per second, one caller
%%   gen_call8 the same from 8 callers at once (calls per second in all)
%% The server also runs bench_gen, a gen_server that replies to every call with the
%% request (Spindle's server runs a GenServer that does the same).
-module(dist_bench).
-behaviour(gen_server).
-export([serve/0, drive/1, echo/1]).
-export([init/1, handle_call/3, handle_cast/2]).

serve() ->
    register(bench_server, spawn(fun server/0)),
    {ok, _} = gen_server:start({local, bench_gen}, ?MODULE, [], []),
    io:format("ready~n").

init([]) -> {ok, nostate}.
handle_call(Request, _From, State) -> {reply, Request, State}.
handle_cast(_Request, State) -> {noreply, State}.

server() ->
    receive
        {echo, From} -> From ! {echo, spawn(fun echo/0)};
        {sink, From, N} -> From ! {sink, spawn(fun() -> sink(From, N, N) end)};
        _ -> ok
    end,
    server().

echo() ->
    receive {From, X} -> From ! X end,
    echo().

%% What rpc calls: Spindle's server registers the same function.
echo(X) -> X.

sink(Report, N, 0) -> Report ! {sink_done, N};
sink(Report, N, K) -> receive _ -> sink(Report, N, K - 1) end.

drive([TargetA, WorkloadA, NA, SizeA]) ->
    Target = TargetA,
    N = list_to_integer(atom_to_list(NA)),
    Size = list_to_integer(atom_to_list(SizeA)),
    Value = run(WorkloadA, Target, N, Size),
    io:format("result ~.6f~n", [float(Value)]),
    halt().

run(pingpong, Target, N, _Size) ->
    {bench_server, Target} ! {echo, self()},
    Echo = receive {echo, E} -> E end,
    rounds(Echo, 1000),  % warm up
    Start = erlang:monotonic_time(),
    rounds(Echo, N),
    N / seconds_since(Start);
run(stream, Target, N, _Size) ->
    N / stream(Target, N, {data, 42});
run(bulk, Target, N, Size) ->
    Bin = binary:copy(<<7>>, Size),
    N * Size / 1.0e6 / stream(Target, N, Bin);
run(rpc, Target, N, _Size) ->
    calls(Target, 100),  % warm up
    Start = erlang:monotonic_time(),
    calls(Target, N),
    N / seconds_since(Start);
run(gen_call, Target, N, _Size) ->
    gen_calls(Target, 100),  % warm up
    Start = erlang:monotonic_time(),
    gen_calls(Target, N),
    N / seconds_since(Start);
run(gen_call8, Target, N, _Size) ->
    gen_calls(Target, 100),
    Self = self(),
    Start = erlang:monotonic_time(),
    Callers = [spawn_link(fun() -> gen_calls(Target, N div 8), Self ! {done, self()} end) || _ <- lists:seq(1, 8)],
    [receive {done, C} -> ok end || C <- Callers],
    (N div 8) * 8 / seconds_since(Start);
run(setup, Target, N, _Size) ->
    pong = net_adm:ping(Target),
    Total = lists:sum([setup_once(Target) || _ <- lists:seq(1, N)]),
    Total * 1000 / N.

gen_calls(_Target, 0) -> ok;
gen_calls(Target, K) ->
    K = gen_server:call({bench_gen, Target}, K),
    gen_calls(Target, K - 1).

calls(_Target, 0) -> ok;
calls(Target, K) ->
    K = rpc:call(Target, dist_bench, echo, [K]),
    calls(Target, K - 1).

rounds(_Echo, 0) -> ok;
rounds(Echo, K) ->
    Echo ! {self(), K},
    receive K -> rounds(Echo, K - 1) end.

% Seconds to send N copies of Message to a fresh sink, counted by the sink's ack.
stream(Target, N, Message) ->
    {bench_server, Target} ! {sink, self(), N},
    Sink = receive {sink, S} -> S end,
    Start = erlang:monotonic_time(),
    send_n(Sink, Message, N),
    receive {sink_done, N} -> ok end,
    seconds_since(Start).

send_n(_Sink, _Message, 0) -> ok;
send_n(Sink, Message, K) -> Sink ! Message, send_n(Sink, Message, K - 1).

setup_once(Target) ->
    true = erlang:disconnect_node(Target),
    wait_disconnected(Target),
    Start = erlang:monotonic_time(),
    pong = net_adm:ping(Target),
    seconds_since(Start).

wait_disconnected(Target) ->
    case lists:member(Target, nodes(connected)) of
        true -> timer:sleep(1), wait_disconnected(Target);
        false -> ok
    end.

seconds_since(Start) ->
    erlang:convert_time_unit(erlang:monotonic_time() - Start, native, nanosecond) / 1.0e9.
