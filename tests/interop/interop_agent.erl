%% The Erlang side of the distribution interop tests. An `erl` node started by a test
%% runs start/0: it registers `agent`, prints "agent ready", and then runs what the
%% Spindle side asks: {call, From, Ref, Function, Args} -> From ! {Ref, Result}, where
%% Function is one of the exported functions below, run in a fresh process.
%%
%% worker/0 speaks the protocol of spindle-node's demo workers, so each link, monitor
%% and exit scenario runs the same way in both directions.
-module(interop_agent).
-export([start/0, serve/0]).
-export([ping/1, connected/0, spawn_worker/0, echo_corpus/3, echo_binary/2, flood/3, flood_then_pause/3, collect/3, exit_signal/2,
         send_to/2, monitor_name/2, run/3, rex_call/4, remote_spawns/1, supervision/1,
         global_sync/1, global_register/1, global_trans/1]).

start() ->
    Pid = spawn(fun serve/0),
    register(agent, Pid),
    io:format("agent ready~n").

serve() ->
    receive
        {call, From, Ref, Function, Args} ->
            spawn(fun() ->
                          Result = try apply(?MODULE, Function, Args)
                                   catch Class:Reason -> {'EXIT', Class, Reason}
                                   end,
                          From ! {Ref, Result}
                  end);
        _ -> ok
    end,
    serve().

ping(Node) -> net_adm:ping(Node).

connected() -> nodes(connected).

%% {From, ping} -> From ! {self(), pong}; {exit, Reason}; {monitor, Pid, ReportTo};
%% {trap_link, Pid, ReportTo}: the same as spindle-node's demo worker.
spawn_worker() -> spawn(fun() -> worker(#{}) end).

worker(Watching) ->
    receive
        {From, ping} when is_pid(From) ->
            From ! {self(), pong},
            worker(Watching);
        {exit, Reason} ->
            exit(Reason);
        {monitor, Target, ReportTo} ->
            Ref = erlang:monitor(process, Target),
            worker(Watching#{Ref => ReportTo});
        {trap_link, Pid, ReportTo} ->
            process_flag(trap_exit, true),
            link(Pid),
            worker(Watching#{Pid => ReportTo});
        {'DOWN', Ref, process, Object, Reason} ->
            case maps:take(Ref, Watching) of
                {ReportTo, Rest} -> ReportTo ! {down, Object, Reason}, worker(Rest);
                error -> worker(Watching)
            end;
        {'EXIT', Pid, Reason} ->
            case maps:take(Pid, Watching) of
                {ReportTo, Rest} -> ReportTo ! {exit_signal, Pid, Reason}, worker(Rest);
                error -> worker(Watching)
            end
    end.

%% Sends every term of the corpus file (4-byte length + external term, repeated) to
%% Target as {self(), Term}; each must come back =:=. ok or what went wrong.
echo_corpus(File, Target, TimeoutMs) ->
    {ok, Bin} = file:read_file(File),
    Terms = [binary_to_term(B) || B <- records(Bin)],
    echo_each(Terms, Target, TimeoutMs, 1).

echo_each([], _Target, _TimeoutMs, N) -> {ok, N - 1};
echo_each([T | Rest], Target, TimeoutMs, N) ->
    Target ! {self(), {N, T}},
    receive
        {N, Got} when Got =:= T -> echo_each(Rest, Target, TimeoutMs, N + 1);
        {N, Got} -> {mismatch, N, T, Got}
    after TimeoutMs -> {timeout, N, T}
    end.

records(<<Size:32, Bytes:Size/binary, Rest/binary>>) -> [Bytes | records(Rest)];
records(<<>>) -> [].

%% A binary of Size bytes to Target and back.
echo_binary(Target, Size) ->
    Pattern = list_to_binary(lists:seq(0, 250)),
    B = binary:part(binary:copy(Pattern, Size div 251 + 1), 0, Size),
    Target ! {self(), B},
    receive
        Got when Got =:= B -> {ok, byte_size(Got)};
        Other when is_binary(Other) -> {mismatch, byte_size(Other)}
    after 60000 -> timeout
    end.

%% Senders processes each send {Self, Seq} for Seq in 1..PerSender to Target.
flood(Target, Senders, PerSender) ->
    Parent = self(),
    Pids = [spawn(fun() ->
                          [Target ! {self(), Seq} || Seq <- lists:seq(1, PerSender)],
                          Parent ! {sent, self()}
                  end) || _ <- lists:seq(1, Senders)],
    [receive {sent, P} -> ok end || P <- Pids],
    {ok, Pids}.

%% Sends Target N messages {Self, Seq}, pauses PauseMs, then sends {Self, N + 1}.
flood_then_pause(Target, N, PauseMs) ->
    [Target ! {self(), Seq} || Seq <- lists:seq(1, N)],
    timer:sleep(PauseMs),
    Target ! {self(), N + 1},
    ok.

%% Asks Source for N messages {seq, I} (or {seq, I, Padding}) and checks that all come, in order.
collect(Source, N, TimeoutMs) ->
    Source ! {go, self(), N},
    collect_from(1, N, TimeoutMs).

collect_from(I, N, _TimeoutMs) when I > N -> {ok, N};
collect_from(I, N, TimeoutMs) ->
    receive
        {seq, I} -> collect_from(I + 1, N, TimeoutMs);
        {seq, I, _Padding} -> collect_from(I + 1, N, TimeoutMs);
        {seq, Other} -> {out_of_order, I, Other};
        {seq, Other, _} -> {out_of_order, I, Other}
    after TimeoutMs -> {timeout, I - 1}
    end.

exit_signal(Pid, Reason) -> exit(Pid, Reason), ok.

send_to(Target, Message) -> Target ! Message, ok.

%% Monitors {Name, Node} from a fresh process; the DOWN goes to ReportTo as {down, Object, Reason}.
monitor_name(NameNode, ReportTo) ->
    Pid = spawn_worker(),
    Pid ! {monitor, NameNode, ReportTo},
    Pid.

%% global:sync() within TimeoutMs: ok, or timeout (it waits for every visible node).
global_sync(TimeoutMs) ->
    Self = self(),
    Pid = spawn(fun() -> global:sync(), Self ! {synced, self()} end),
    receive {synced, Pid} -> ok after TimeoutMs -> exit(Pid, kill), timeout end.

%% Registers a fresh process (alive until sent stop) as the global Name: {Result, Pid}.
global_register(Name) ->
    Pid = spawn(fun() -> receive stop -> ok end end),
    {global:register_name(Name, Pid), Pid}.

%% Runs a function under a global lock set on Nodes: its result, or aborted.
global_trans(Nodes) ->
    global:trans({spindle_interop, self()}, fun() -> inside end, Nodes, 0).

%% Any function: run(erpc, call, [Node, M, F, A]) and the like.
run(M, F, A) -> apply(M, F, A).

%% OTP's classic rpc protocol, as erl_interface's ei_rpc speaks it: {rex, Result}.
rex_call(Node, M, F, A) ->
    {rex, Node} ! {self(), {call, M, F, A, user}},
    receive {rex, Result} -> Result after 10000 -> no_answer end.

%% spawn/4, spawn_link/4 and spawn_monitor/4 of the demo worker kind on Node, and of a
%% function it does not have: what each gives back and what the caller then sees.
remote_spawns(Node) ->
    process_flag(trap_exit, true),
    P1 = spawn(Node, spindle_demo, worker, []),
    P1 ! {self(), ping},
    Pong = receive {P1, pong} -> pong after 5000 -> no_pong end,
    P2 = spawn_link(Node, spindle_demo, worker, []),
    P2 ! {exit, linked_exit},
    Linked = receive {'EXIT', P2, R2} -> R2 after 5000 -> no_exit end,
    {P3, M3} = spawn_monitor(Node, spindle_demo, worker, []),
    P3 ! {exit, monitored_exit},
    Monitored = receive {'DOWN', M3, process, P3, R3} -> R3 after 5000 -> no_down end,
    {P4, M4} = spawn_monitor(Node, spindle_demo, nothing, [1]),
    Undef = receive {'DOWN', M4, process, P4, R4} -> R4 after 5000 -> no_down end,
    {node(P1), Pong, Linked, Monitored, Undef}.

%% The demo supervision tree on Node, driven with OTP's supervisor and gen_server calls:
%% its children, kv restarted (empty) after a crash, a worker started under
%% spindle_workers, counted and terminated.
supervision(Node) ->
    Sup = {spindle_sup, Node},
    Workers = {spindle_workers, Node},
    [{kv, Kv, worker, _}, {spindle_workers, WorkersPid, supervisor, _}] = supervisor:which_children(Sup),
    ok = gen_server:call({kv, Node}, {put, a, 1}),
    {'EXIT', {Crash, _}} = (catch gen_server:call({kv, Node}, crash)),
    Kv2 = restarted(Sup, kv, Kv, 100),
    Size = gen_server:call({kv, Node}, size),
    {ok, W} = supervisor:start_child(Workers, []),
    W ! {self(), ping},
    Pong = receive {W, pong} -> pong after 5000 -> no_pong end,
    Counts = supervisor:count_children(Workers),
    ok = supervisor:terminate_child(Workers, W),
    {node(WorkersPid), Crash, node(Kv2), Kv2 =/= Kv, Size, Pong, Counts, supervisor:which_children(Workers)}.

restarted(_Sup, _Id, _Old, 0) -> not_restarted;
restarted(Sup, Id, Old, Tries) ->
    case lists:keyfind(Id, 1, supervisor:which_children(Sup)) of
        {Id, New, _, _} when is_pid(New), New =/= Old -> New;
        _ -> timer:sleep(20), restarted(Sup, Id, Old, Tries - 1)
    end.
