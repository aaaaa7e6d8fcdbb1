%% The soak test's Erlang side (tools/soak.sh): a controller node that, for a bounded
%% time, keeps a few peer nodes (real `erl` nodes started with OTP's `peer`) loading a
%% Spindle node with mixed traffic, kills one abruptly (kill -9, mid-traffic) every few
%% seconds and starts a fresh one in its place. At the end the surviving peers stop
%% sending and wait for every answer, and it prints what was sent, received and lost.
%%
%% Each peer runs, against the Spindle node:
%%   - echo senders: {self(), {Seq, Payload}} to its registered `echo`, which sends the
%%     term back; small terms, and a 64 KB binary every 50th message; at most Window
%%     messages unanswered per sender;
%%   - an rpc caller: rpc:call(Spindle, spindle_demo, add, [A, B]), checked;
%%   - a kv caller: gen_server:call({kv, Spindle}, {put, K, V}) then {get, K}, checked;
%%   - a linker: spawns Spindle demo workers, links to them and has them exit, so the
%%     Spindle node keeps making and ending links across connections that die.
%% A message is lost when a live peer sent it and no answer came back (or a wrong one).
-module(soak).
-export([main/1, peer_main/2]).

-define(SENDERS, 4).
-define(WINDOW, 100).
-define(BIG_EVERY, 50).

main([SpindleNode, SecondsText, PeersText, DirText]) ->
    Spindle = list_to_atom(SpindleNode),
    Seconds = list_to_integer(SecondsText),
    Peers = list_to_integer(PeersText),
    Dir = DirText,
    pong = net_adm:ping(Spindle),
    Deadline = erlang:monotonic_time(millisecond) + Seconds * 1000,
    State0 = #{spindle => Spindle, dir => Dir, next => 1, live => #{}, killed => 0, joined => 0,
               killed_sent => 0, killed_received => 0},
    State1 = lists:foldl(fun(_, S) -> start_peer(S) end, State0, lists:seq(1, Peers)),
    State2 = churn(State1, Deadline),
    Results = [stop_peer(P) || P <- maps:values(maps:get(live, State2))],
    report(State2, Results),
    halt(case lists:sum([lost(R) || R <- Results]) of 0 -> 0; _ -> 1 end).

%% Every ChurnMs, the oldest live peer is killed mid-traffic and a new one joins.
churn(State, Deadline) ->
    Now = erlang:monotonic_time(millisecond),
    case Deadline - Now of
        Left when Left =< 0 -> State;
        Left ->
            timer:sleep(min(Left, 3000)),
            case erlang:monotonic_time(millisecond) < Deadline of
                true -> churn(start_peer(kill_oldest(State)), Deadline);
                false -> State
            end
    end.

start_peer(State = #{spindle := Spindle, dir := Dir, next := N, live := Live, joined := Joined}) ->
    Name = list_to_atom("soak_peer" ++ integer_to_list(N)),
    {ok, PeerPid, Node} = peer:start(#{name => Name, host => "127.0.0.1", longnames => true,
                                       args => ["-setcookie", atom_to_list(erlang:get_cookie()),
                                                "-pa", Dir, "-kernel", "connect_all", "false"]}),
    Driver = erpc:call(Node, erlang, spawn, [?MODULE, peer_main, [Spindle, self()]]),
    OsPid = erpc:call(Node, os, getpid, []),
    State#{next := N + 1, joined := Joined + 1,
           live := Live#{N => #{peer => PeerPid, node => Node, driver => Driver, os_pid => OsPid}}}.

kill_oldest(State = #{live := Live, killed := Killed}) ->
    Oldest = lists:min(maps:keys(Live)),
    #{driver := Driver, os_pid := OsPid} = maps:get(Oldest, Live),
    %% Its counts so far, for the report (what was in flight when it died is not counted as lost).
    Driver ! {counts, self()},
    {Sent, Received} = receive {counts, Driver, S, R} -> {S, R} after 5000 -> {0, 0} end,
    os:cmd("kill -9 " ++ OsPid),
    State#{live := maps:remove(Oldest, Live), killed := Killed + 1,
           killed_sent := maps:get(killed_sent, State) + Sent,
           killed_received := maps:get(killed_received, State) + Received}.

stop_peer(#{peer := PeerPid, driver := Driver}) ->
    Driver ! {finish, self()},
    Result = receive {finished, Driver, R} -> R after 60000 -> #{error => no_answer} end,
    peer:stop(PeerPid),
    Result.

lost(#{echo_sent := S, echo_received := R, echo_wrong := W, rpc_bad := RB, kv_bad := KB, links_bad := LB}) ->
    (S - R) + W + RB + KB + LB;
lost(_) -> 1.

report(State, Results) ->
    Sum = fun(Key) -> lists:sum([maps:get(Key, R, 0) || R <- Results]) end,
    io:format("peers joined ~p, killed mid-traffic ~p, finished cleanly ~p~n",
              [maps:get(joined, State), maps:get(killed, State), length(Results)]),
    io:format("live peers: echo sent ~p, received ~p, wrong ~p; rpc calls ~p (bad ~p); "
              "kv calls ~p (bad ~p); links made and broken ~p (bad ~p)~n",
              [Sum(echo_sent), Sum(echo_received), Sum(echo_wrong), Sum(rpc_ok) + Sum(rpc_bad), Sum(rpc_bad),
               Sum(kv_ok) + Sum(kv_bad), Sum(kv_bad), Sum(links), Sum(links_bad)]),
    io:format("killed peers (before they died): echo sent ~p, received ~p~n",
              [maps:get(killed_sent, State), maps:get(killed_received, State)]),
    io:format("result lost ~p~n", [lists:sum([lost(R) || R <- Results])]).

%% ----- on a peer -----

peer_main(Spindle, _Controller) ->
    process_flag(trap_exit, true),
    Me = self(),
    Senders = [spawn_link(fun() -> echo_sender(Spindle, Me, I) end) || I <- lists:seq(1, ?SENDERS)],
    Rpc = spawn_link(fun() -> rpc_caller(Spindle, 0, 0) end),
    Kv = spawn_link(fun() -> kv_caller(Spindle, node(), 0, 0, 0) end),
    Linker = spawn_link(fun() -> process_flag(trap_exit, true), linker(Spindle, 0, 0) end),
    peer_loop(Senders, [Rpc, Kv, Linker]).

peer_loop(Senders, Others) ->
    receive
        {counts, From} ->
            Counts = [ask(S, counts) || S <- Senders],
            From ! {counts, self(), lists:sum([S || {S, _, _} <- Counts]), lists:sum([R || {_, R, _} <- Counts])},
            peer_loop(Senders, Others);
        {finish, From} ->
            Echo = [ask(S, finish) || S <- Senders],
            [Rpc, Kv, Linker] = [ask(P, finish) || P <- Others],
            {RpcOk, RpcBad} = Rpc,
            {KvOk, KvBad} = Kv,
            {Links, LinksBad} = Linker,
            From ! {finished, self(),
                    #{echo_sent => lists:sum([S || {S, _, _} <- Echo]),
                      echo_received => lists:sum([R || {_, R, _} <- Echo]),
                      echo_wrong => lists:sum([W || {_, _, W} <- Echo]),
                      rpc_ok => RpcOk, rpc_bad => RpcBad, kv_ok => KvOk, kv_bad => KvBad,
                      links => Links, links_bad => LinksBad}}
    end.

ask(Pid, What) ->
    Pid ! {What, self()},
    receive {answer, Pid, A} -> A after 60000 -> exit({no_answer, What}) end.

%% Sends Seq = 1, 2, ... with at most ?WINDOW unanswered; each answer must be the term sent.
echo_sender(Spindle, Parent, Id) ->
    Big = binary:copy(<<Id>>, 65536),
    echo_loop(Spindle, Parent, Big, 1, 1, 0, false).

echo_loop(Spindle, Parent, Big, Next, Expect, Wrong, Finishing) ->
    receive
        {Seq, Payload} when is_integer(Seq) ->
            Ok = Seq =:= Expect andalso Payload =:= payload(Seq, Big),
            echo_loop(Spindle, Parent, Big, Next, Expect + 1, Wrong + bool(not Ok), Finishing);
        {counts, From} ->
            From ! {answer, self(), {Next - 1, Expect - 1, Wrong}},
            echo_loop(Spindle, Parent, Big, Next, Expect, Wrong, Finishing);
        {finish, From} ->
            drain(Big, Next, Expect, Wrong, From)
    after 0 ->
            case Next - Expect < ?WINDOW of
                true ->
                    {echo, Spindle} ! {self(), {Next, payload(Next, Big)}},
                    echo_loop(Spindle, Parent, Big, Next + 1, Expect, Wrong, Finishing);
                false ->
                    receive
                        {Seq, Payload} when is_integer(Seq) ->
                            Ok = Seq =:= Expect andalso Payload =:= payload(Seq, Big),
                            echo_loop(Spindle, Parent, Big, Next, Expect + 1, Wrong + bool(not Ok), Finishing)
                    after 10000 ->
                            echo_loop(Spindle, Parent, Big, Next, Expect, Wrong, Finishing)
                    end
            end
    end.

drain(_Big, Next, Expect, Wrong, From) when Expect =:= Next ->
    From ! {answer, self(), {Next - 1, Expect - 1, Wrong}};
drain(Big, Next, Expect, Wrong, From) ->
    receive
        {Seq, Payload} when is_integer(Seq) ->
            Ok = Seq =:= Expect andalso Payload =:= payload(Seq, Big),
            drain(Big, Next, Expect + 1, Wrong + bool(not Ok), From)
    after 20000 ->
            From ! {answer, self(), {Next - 1, Expect - 1, Wrong}}
    end.

payload(Seq, Big) when Seq rem ?BIG_EVERY =:= 0 -> Big;
payload(Seq, _Big) -> {Seq, [a, "text", 1.5, <<Seq:32>>], #{seq => Seq}}.

bool(true) -> 1;
bool(false) -> 0.

rpc_caller(Spindle, Ok, Bad) ->
    receive
        {finish, From} -> From ! {answer, self(), {Ok, Bad}}
    after 0 ->
            A = rand:uniform(1 bsl 70), B = rand:uniform(1000),
            case rpc:call(Spindle, spindle_demo, add, [A, B], 10000) of
                Sum when Sum =:= A + B -> rpc_caller(Spindle, Ok + 1, Bad);
                _ -> rpc_caller(Spindle, Ok, Bad + 1)
            end
    end.

%% Keys are this peer's own, so other peers' puts (and kv restarts, which there are none
%% of here) cannot change what it reads back.
kv_caller(Spindle, Me, N, Ok, Bad) ->
    receive
        {finish, From} -> From ! {answer, self(), {Ok, Bad}}
    after 0 ->
            Key = {Me, N rem 100},
            Good = try
                       ok = gen_server:call({kv, Spindle}, {put, Key, N}, 10000),
                       {ok, N} =:= gen_server:call({kv, Spindle}, {get, Key}, 10000)
                   catch _:_ -> false
                   end,
            case Good of
                true -> kv_caller(Spindle, Me, N + 1, Ok + 1, Bad);
                false -> kv_caller(Spindle, Me, N + 1, Ok, Bad + 1)
            end
    end.

%% Links to a fresh Spindle worker and has it exit: {'EXIT', W, soak} must come back.
linker(Spindle, Ok, Bad) ->
    receive
        {finish, From} -> From ! {answer, self(), {Ok, Bad}}
    after 0 ->
            Good = case rpc:call(Spindle, spindle_demo, spawn_worker, [], 10000) of
                       W when is_pid(W) ->
                           link(W),
                           W ! {exit, soak},
                           receive {'EXIT', W, soak} -> true after 10000 -> false end;
                       _ -> false
                   end,
            timer:sleep(10),
            case Good of
                true -> linker(Spindle, Ok + 1, Bad);
                false -> linker(Spindle, Ok, Bad + 1)
            end
    end.
