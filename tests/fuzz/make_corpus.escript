#!/usr/bin/env escript
%% -*- erlang -*-
%% Writes the seed corpora of the fuzz targets (tests/fuzz/fuzz_*.cpp) into DIR/<target>/,
%% from what a real Erlang/OTP node and OTP's epmd write. Run it through make_corpus.sh,
%% which starts a private epmd and passes its port in ERL_EPMD_PORT.
%%
%% This node (corpus@127.0.0.1) talks to a fake node, spindle@127.0.0.1, played here over
%% plain sockets with the fuzz targets' fixed challenge and cookie, so that a recorded
%% handshake runs to its end in the targets:
%%   fuzz_etf                 term_to_binary/1,2 of a variety of terms
%%   fuzz_epmd                a selector byte (0 request, 1 ALIVE2 response, 2 PORT2
%%                            response, 3 NAMES response), then the message: requests as
%%                            erl and the epmd tool send them, responses as epmd sends them
%%   fuzz_handshake_accept    a byte for our answer (0 ok .. 4 alive), then the packets
%%                            this node sends when it connects to the fake node
%%   fuzz_handshake_initiate  a byte (1: insist on the peer's name), then the packets this
%%                            node sends when the fake node connects to it
%%   fuzz_frame               the frames this node sends the fake node after the
%%                            handshake (atom cache, every kind of control message), and a
%%                            few built here: fragments, pass-through frames, a tick
-mode(compile).

-define(COOKIE, "fuzzcookie").
-define(CHALLENGE, 16#5eed1234).          % kChallenge in the fuzz targets
-define(FAKE, 'spindle@127.0.0.1').
-define(FAKE_CREATION, 42).

main([Dir]) ->
    {ok, _} = net_kernel:start(['corpus@127.0.0.1', longnames]),
    erlang:set_cookie(node(), list_to_atom(?COOKIE)),
    etf(target(Dir, "fuzz_etf")),
    epmd(target(Dir, "fuzz_epmd")),
    dist(target(Dir, "fuzz_handshake_accept"), target(Dir, "fuzz_handshake_initiate"),
         target(Dir, "fuzz_frame")),
    io:format("corpus written to ~s~n", [Dir]);
main(_) ->
    io:format(standard_error, "usage: make_corpus.escript DIR~n", []),
    halt(2).

target(Dir, Name) ->
    Path = filename:join(Dir, Name),
    ok = filelib:ensure_dir(filename:join(Path, "x")),
    Path.

write(Dir, Name, Bytes) ->
    ok = file:write_file(filename:join(Dir, Name), Bytes).

%% ----- fuzz_etf -----

etf(Dir) ->
    X = {captured, [1, 2]},
    Terms =
        [{"small_integer", 42}, {"integer", -100000}, {"small_big", 1 bsl 64},
         {"small_big_negative", -(1 bsl 100) + 7}, {"large_big", 1 bsl 2100},
         {"new_float", 3.14159}, {"negative_zero", -0.0},
         {"atom_latin1", hello}, {"atom_unicode", list_to_atom([955, 945, 956, 946, 948, 945])},
         {"atom_long", list_to_atom(lists:duplicate(255, $a))}, {"boolean", true},
         {"nil", []}, {"string", "hello world"}, {"list", [1, a, 2.0, <<"b">>, "c"]},
         {"improper_list", [a, b | c]}, {"empty_tuple", {}}, {"tuple", {ok, 1, "two"}},
         {"large_tuple", list_to_tuple(lists:seq(1, 260))}, {"empty_map", #{}},
         {"map", #{a => 1, <<"k">> => [1], {t} => #{}}},
         {"large_map", maps:from_list([{K, K * K} || K <- lists:seq(1, 40)])},
         {"empty_binary", <<>>}, {"binary", <<"hello">>}, {"binary_100", list_to_binary(lists:seq(1, 100))},
         {"bitstring", <<1:3>>}, {"bitstring_2", <<255, 7:5>>},
         {"pid", self()}, {"remote_pid", fake_pid(7)}, {"reference", make_ref()},
         {"remote_reference", fake_ref()}, {"port", hd(erlang:ports())},
         {"closure", fun() -> ok end}, {"closure_env", fun() -> X end},
         {"export_fun", fun lists:map/2},
         {"nested", {a, [b, #{c => {d, [<<"e">>, 1.5]}}], -3}},
         {"deep", lists:foldl(fun(_, A) -> [A] end, [], lists:seq(1, 100))},
         {"gen_call", {'$gen_call', {self(), [alias | make_ref()]}, {is_auth, node()}}}],
    [write(Dir, Name, term_to_binary(T)) || {Name, T} <- Terms],
    write(Dir, "utf8_atoms", term_to_binary({ok, hello, 'Ünïcödé'}, [{minor_version, 2}])),
    write(Dir, "old_float", term_to_binary(2.5, [{minor_version, 0}])),
    write(Dir, "compressed", term_to_binary(lists:duplicate(50, <<"abc">>), [compressed])),
    %% ATOM_CACHE_REF, as a distribution header's atoms are referred to.
    write(Dir, "atom_cache_ref", <<131, 104, 2, 82, 1, 82, 3>>).

%% A pid and a reference of the fake node.
fake_pid(Id) ->
    N = atom_to_binary(?FAKE),
    binary_to_term(<<131, 88, 119, (byte_size(N)), N/binary, Id:32, 0:32, ?FAKE_CREATION:32>>).

fake_ref() ->
    N = atom_to_binary(?FAKE),
    binary_to_term(<<131, 90, 3:16, 119, (byte_size(N)), N/binary, ?FAKE_CREATION:32, 1:32, 2:32, 3:32>>).

%% ----- fuzz_epmd -----

epmd(Dir) ->
    Epmd = list_to_integer(os:getenv("ERL_EPMD_PORT")),
    %% OTP's epmd answers: a registration (kept while its connection is open), a lookup of
    %% a node it knows and of one it does not, and the list of names.
    {ok, Alive} = gen_tcp:connect({127, 0, 0, 1}, Epmd, [binary, {active, false}]),
    ok = gen_tcp:send(Alive, with_length(<<120, 5555:16, 72, 0, 6:16, 6:16, 11:16, "corpusprobe", 0:16>>)),
    {ok, AliveResp} = gen_tcp:recv(Alive, 6, 5000),
    write(Dir, "alive2_x_resp", [1, AliveResp]),
    write(Dir, "alive2_resp_old", [1, 121, 0, 0, 3]),
    write(Dir, "port2_resp", [2, epmd_ask(Epmd, <<122, "corpusprobe">>)]),
    write(Dir, "port2_resp_unknown", [2, epmd_ask(Epmd, <<122, "nosuchnode">>)]),
    write(Dir, "names_resp", [3, epmd_ask(Epmd, <<110>>)]),
    gen_tcp:close(Alive),
    %% Requests as an erl node and the epmd tool make them, to a fake epmd.
    {ok, Listen} = gen_tcp:listen(0, [binary, {active, false}, {ip, {127, 0, 0, 1}}, {reuseaddr, true}]),
    {ok, Fake} = inet:port(Listen),
    Self = self(),
    spawn_link(fun() -> fake_epmd(Listen, Fake, Self) end),
    Erl = os:find_executable("erl"),
    ErlPort = open_port({spawn_executable, Erl},
                        [exit_status, {env, [{"ERL_EPMD_PORT", integer_to_list(Fake)}]},
                         {args, ["-name", "probe@127.0.0.1", "-setcookie", ?COOKIE, "-start_epmd", "false",
                                 "-noshell", "-eval",
                                 "net_adm:names(), erl_epmd:port_please(\"nosuch\", {127,0,0,1}), halt()."]}]),
    receive {ErlPort, {exit_status, 0}} -> ok after 60000 -> error(probe_node_timeout) end,
    Tool = os:find_executable("epmd"),
    [os:cmd(lists:flatten([Tool, " -port ", integer_to_list(Fake), " ", Args]))
     || Args <- ["-names", "-dump", "-stop probe", "-kill"]],
    Requests = fake_epmd_requests(Fake),
    Named = [{"alive2_req", $x}, {"port_please2_req", $z}, {"names_req", $n},
             {"dump_req", $d}, {"stop_req", $s}, {"kill_req", $k}],
    [write(Dir, Name, [0, first_with_tag(Tag, Requests)]) || {Name, Tag} <- Named],
    ok.

first_with_tag(Tag, Requests) ->
    case [B || <<C, _/binary>> = B <- Requests, C =:= Tag] of
        [Body | _] -> Body;
        [] -> error({no_request_recorded, Tag, Requests})
    end.

with_length(Body) -> <<(byte_size(Body)):16, Body/binary>>.

%% One request to epmd; the answer is what it sends before it closes the connection.
epmd_ask(Epmd, Request) ->
    {ok, S} = gen_tcp:connect({127, 0, 0, 1}, Epmd, [binary, {active, false}]),
    ok = gen_tcp:send(S, with_length(Request)),
    recv_all(S, <<>>).

recv_all(S, Acc) ->
    case gen_tcp:recv(S, 0, 5000) of
        {ok, Bytes} -> recv_all(S, <<Acc/binary, Bytes/binary>>);
        {error, closed} -> Acc
    end.

%% A fake epmd: records each request's body and answers as epmd would.
fake_epmd(Listen, Port, Owner) ->
    {ok, S} = gen_tcp:accept(Listen),
    {ok, <<Length:16>>} = gen_tcp:recv(S, 2, 5000),
    {ok, Body} = gen_tcp:recv(S, Length, 5000),
    Owner ! {fake_epmd_request, Port, Body},
    case Body of
        <<120, _/binary>> -> ok = gen_tcp:send(S, <<118, 0, 7:32>>);  % ALIVE2: keep the connection
        <<110>> -> gen_tcp:send(S, <<Port:32, "name probe at port 5555\n">>), gen_tcp:close(S);
        <<122, _/binary>> -> gen_tcp:send(S, <<119, 1>>), gen_tcp:close(S);
        <<107>> -> gen_tcp:send(S, <<"OK">>), gen_tcp:close(S);
        <<115, _/binary>> -> gen_tcp:send(S, <<"NOEXIST">>), gen_tcp:close(S);
        _ -> gen_tcp:send(S, <<Port:32>>), gen_tcp:close(S)
    end,
    fake_epmd(Listen, Port, Owner).

fake_epmd_requests(Port) ->
    receive {fake_epmd_request, Port, Body} -> [Body | fake_epmd_requests(Port)]
    after 500 -> []
    end.

%% ----- the handshake and the frames after it -----

%% Everything Spindle implements (flags::ours in spindle/dist/flags.hpp): a hidden node.
our_flags() ->
    16#1070F94 bor 16#4000000 bor 16#8 bor 16#20 bor 16#1000 bor 16#2000 bor 16#4000 bor 16#80000
        bor 16#100000 bor 16#400000 bor 16#800000 bor 16#2000000 bor (1 bsl 32) bor (1 bsl 34)
        bor (1 bsl 35).

digest(Challenge) -> erlang:md5([?COOKIE, integer_to_list(Challenge)]).

dist(AcceptDir, InitiateDir, FrameDir) ->
    {ok, Listen} = gen_tcp:listen(0, [binary, {active, false}, {ip, {127, 0, 0, 1}}, {reuseaddr, true}]),
    {ok, Port} = inet:port(Listen),
    Epmd = list_to_integer(os:getenv("ERL_EPMD_PORT")),
    {ok, Registration} = gen_tcp:connect({127, 0, 0, 1}, Epmd, [binary, {active, false}]),
    ok = gen_tcp:send(Registration, with_length(<<120, Port:16, 72, 0, 6:16, 6:16, 7:16, "spindle", 0:16>>)),
    {ok, <<118, 0, _:32>>} = gen_tcp:recv(Registration, 6, 5000),

    %% This node connects to the fake node: the accepting side's corpus, and the frames.
    Scenarios = frame_scenarios(),
    [begin
         {Handshake, Frames} = session(Listen, "ok", Actions),
         Name =:= "reg_send" andalso write_accept_corpus(AcceptDir, Handshake),
         write(FrameDir, Name, Frames)
     end || {Name, Actions} <- Scenarios],
    {AliveHandshake, _} = session(Listen, "alive", fun(_) -> ok end),
    write(AcceptDir, "alive", [4 | AliveHandshake]),
    {NokHandshake, _} = session(Listen, "nok", none),
    write(AcceptDir, "nok", [2 | NokHandshake]),
    write(AcceptDir, "not_allowed", [3 | NokHandshake]),
    write(AcceptDir, "version5_with_complement", [0 | version5_handshake()]),
    write_built_frames(FrameDir),

    %% The fake node connects to this node: the initiating side's corpus.
    {port, NodePort, _} = erl_epmd:port_please("corpus", {127, 0, 0, 1}),
    Ok = initiate(NodePort),
    write(InitiateDir, "ok", [0 | Ok]),
    write(InitiateDir, "ok_expected_peer", [1 | Ok]),
    write(InitiateDir, "ok_simultaneous", [0, packet(<<"sok_simultaneous">>) | tl(Ok)]),
    write(InitiateDir, "nok", [0, packet(<<"snok">>)]),
    %% While a connection to the fake node is up, a second one is answered alive.
    Self = self(),
    spawn_link(fun() -> session(Listen, "ok", fun(_) -> Self ! up, receive stop -> ok end end) end),
    receive up -> ok after 10000 -> error(no_connection) end,
    write(InitiateDir, "alive", [0 | initiate(NodePort)]),
    erlang:disconnect_node(?FAKE),
    net_kernel:allow(['someone_else@127.0.0.1']),
    write(InitiateDir, "not_allowed", [0 | initiate(NodePort)]),
    gen_tcp:close(Registration).

packet(Body) -> <<(byte_size(Body)):16, Body/binary>>.

recv_packet(S) ->
    {ok, <<Length:16>>} = gen_tcp:recv(S, 2, 10000),
    {ok, Body} = case Length of 0 -> {ok, <<>>}; _ -> gen_tcp:recv(S, Length, 10000) end,
    {packet(Body), Body}.

write_accept_corpus(Dir, Handshake) ->
    write(Dir, "ok", [0 | Handshake]),
    write(Dir, "ok_simultaneous", [1 | Handshake]).

%% This node connects to the fake node, which answers its name with Status and, once
%% connected, records the frames this node sends while Actions(FakePid) run, until
%% nothing more comes. Returns the packets this node sent in the handshake and the
%% frames (each after its 4-byte length).
session(Listen, Status, Actions) ->
    Self = self(),
    Fake = spawn_link(fun() -> fake_accept(Listen, Status, Self) end),
    spawn(fun() -> net_kernel:connect_node(?FAKE) end),
    Handshake = receive {handshake, Fake, H} -> H after 10000 -> error({no_handshake, Status}) end,
    case Actions of
        none -> {Handshake, <<>>};
        _ ->
            Socket = receive {connected, Fake, S} -> S after 10000 -> error(not_connected) end,
            Actions({fake_pid(1), Socket}),
            Frames = receive {frames, Fake, F} -> F after 30000 -> error(no_frames) end,
            erlang:disconnect_node(?FAKE),
            {Handshake, Frames}
    end.

fake_accept(Listen, Status, Owner) ->
    {ok, S} = gen_tcp:accept(Listen, 10000),
    {Name, _} = recv_packet(S),
    ok = gen_tcp:send(S, packet(list_to_binary([$s, Status]))),
    case Status of
        "ok" ->
            challenge(S, Owner, [Name]);
        "alive" ->
            {Reply, <<"strue">>} = recv_packet(S),
            challenge(S, Owner, [Name, Reply]);
        _ ->
            Owner ! {handshake, self(), [Name]},
            gen_tcp:close(S)
    end.

challenge(S, Owner, Received) ->
    N = atom_to_binary(?FAKE),
    ok = gen_tcp:send(S, packet(<<$N, (our_flags()):64, ?CHALLENGE:32, ?FAKE_CREATION:32,
                                  (byte_size(N)):16, N/binary>>)),
    {Reply, <<$r, Theirs:32, _:16/binary>>} = recv_packet(S),
    ok = gen_tcp:send(S, packet(<<$a, (digest(Theirs))/binary>>)),
    Owner ! {handshake, self(), Received ++ [Reply]},
    Owner ! {connected, self(), S},
    Owner ! {frames, self(), record_frames(S, <<>>)},
    gen_tcp:close(S).

record_frames(S, Acc) ->
    case gen_tcp:recv(S, 0, 500) of
        {ok, Bytes} -> record_frames(S, <<Acc/binary, Bytes/binary>>);
        {error, _} -> Acc
    end.

%% The fake node connects to this node: the packets this node sends (after its status, the
%% fake node answers alive with true).
initiate(NodePort) ->
    {ok, S} = gen_tcp:connect({127, 0, 0, 1}, NodePort, [binary, {active, false}]),
    N = atom_to_binary(?FAKE),
    ok = gen_tcp:send(S, packet(<<$N, (our_flags()):64, ?FAKE_CREATION:32, (byte_size(N)):16, N/binary>>)),
    {Status, StatusBody} = recv_packet(S),
    Result =
        case StatusBody of
            <<"snot_allowed">> -> [Status];
            _ ->
                StatusBody =:= <<"salive">> andalso gen_tcp:send(S, packet(<<"strue">>)),
                {Challenge, <<$N, _:64, Theirs:32, _/binary>>} = recv_packet(S),
                ok = gen_tcp:send(S, packet(<<$r, ?CHALLENGE:32, (digest(Theirs))/binary>>)),
                {Ack, <<$a, _/binary>>} = recv_packet(S),
                [Status, Challenge, Ack]
        end,
    gen_tcp:close(S),
    Result.

%% The version 5 name of OTP 23/24 with its complement (OTP 25 no longer sends them).
version5_handshake() ->
    Flags = our_flags(),
    [packet(<<$n, 5:16, (Flags band 16#FFFFFFFF):32, "old@127.0.0.1">>),
     packet(<<$c, (Flags bsr 32):32, 9:32>>),
     packet(<<$r, 16#0badcafe:32, (digest(?CHALLENGE))/binary>>)].

%% What this node does to processes of the fake node in each session.
frame_scenarios() ->
    [{"reg_send", fun({_, _}) -> {some_name, ?FAKE} ! {hello, "string", <<"binary">>, 3.14, [1 | 2]} end},
     {"send_terms", fun({Pid, _}) ->
                            [Pid ! T || T <- [self(), make_ref(), #{a => [1.5, -7]}, 1 bsl 70,
                                              <<1, 2, 3:5>>, fun lists:sort/1, {tuple, "text", 'Ünï'},
                                              list_to_binary(lists:seq(1, 80))]]
                    end},
     {"link_unlink", fun({Pid, _}) -> link(Pid), unlink(Pid) end},
     {"monitor_demonitor", fun({Pid, _}) ->
                                   demonitor(monitor(process, Pid)),
                                   monitor(process, {registered_name, ?FAKE})
                           end},
     {"exit2", fun({Pid, _}) -> exit(Pid, kill), exit(Pid, {shutdown, [reason]}) end},
     {"link_exit", fun({Pid, _}) -> spawn(fun() -> link(Pid), exit({crashed, [1, 2, 3]}) end) end},
     {"monitor_down", fun({Pid, Socket}) ->
                              Watched = spawn(fun() -> receive go -> exit({gone, 42}) end end),
                              fake_send(Socket, {19, Pid, Watched, fake_ref()}),
                              timer:sleep(100),
                              Watched ! go
                      end},
     {"spawn_request", fun({_, _}) ->
                               erlang:spawn_request(?FAKE, lists, reverse, [[1, 2, 3]], [monitor, link]),
                               erpc:cast(?FAKE, erlang, display, [hi])
                       end},
     {"gen_call", fun({_, _}) ->
                          spawn(fun() -> catch gen_server:call({net_kernel, ?FAKE}, {is_auth, node()}, 200) end)
                  end},
     {"alias_send", fun({_, _}) -> catch erlang:send(fake_ref(), {via_alias, 1}) end},
     {"group_leader", fun({Pid, _}) -> group_leader(self(), Pid) end}].

%% A frame from the fake node: a control message with no atom cache references.
fake_send(Socket, Control) ->
    <<131, Body/binary>> = term_to_binary(Control, [{minor_version, 2}]),
    Frame = <<131, $D, 0, Body/binary>>,
    ok = gen_tcp:send(Socket, <<(byte_size(Frame)):32, Frame/binary>>).

%% Frames built here from the protocol documentation (erl_ext_dist): fragmented messages
%% (one, and two interleaved) with new atom cache entries in the first fragment's header,
%% pass-through frames (no header), and a tick.
write_built_frames(Dir) ->
    Control = body({22, fake_pid(3), self()}),
    Payload = body({message, lists:seq(1, 60), <<"fragmented">>, fake_pid(4)}),
    write(Dir, "fragments", fragment_frames(1, [node(), ?FAKE, message], Control, Payload, 3)),
    [A1, A2, A3] = fragment_frames(1, [node()], Control, Payload, 3),
    [B1, B2] = fragment_frames(2, [], Control, body({other, 1}), 2),
    write(Dir, "fragments_interleaved", [A1, B1, A2, B2, A3]),
    write(Dir, "pass_through",
          [frame(<<112, (term_to_binary({1, fake_pid(3), self()}))/binary>>),
           frame(<<112, (term_to_binary({2, '', self()}))/binary, (term_to_binary(hello))/binary>>)]),
    write(Dir, "tick_then_message", [<<0:32>>, frame(<<131, $D, 0, (body({5}))/binary>>)]).

body(Term) ->
    <<131, Body/binary>> = term_to_binary(Term, [{minor_version, 2}]),
    Body.

frame(Bytes) -> <<(byte_size(Bytes)):32, Bytes/binary>>.

%% The message split into Count fragments: 'E' with the header and the control message,
%% then 'F's, numbered down to 1.
fragment_frames(Sequence, Atoms, Control, Payload, Count) ->
    Size = (byte_size(Payload) + Count - 1) div Count,
    Parts = split(Payload, Size),
    Count = length(Parts),
    [frame(<<131, $E, Sequence:64, Count:64, (header(Atoms))/binary, Control/binary, (hd(Parts))/binary>>)
     | [frame(<<131, $F, Sequence:64, N:64, Part/binary>>)
        || {N, Part} <- lists:zip(lists:seq(Count - 1, 1, -1), tl(Parts))]].

split(Bin, Size) when byte_size(Bin) =< Size -> [Bin];
split(Bin, Size) -> <<Part:Size/binary, Rest/binary>> = Bin, [Part | split(Rest, Size)].

%% A distribution header whose atoms are all new cache entries (slots 1, 2, ... of
%% segment 0), short atoms.
header([]) -> <<0>>;
header(Atoms) ->
    Count = length(Atoms),
    Nibbles = [8 || _ <- Atoms] ++ [0],  % new entry, segment 0; last: short atoms
    Flags = flag_bytes(Nibbles),
    Refs = [<<I, (byte_size(T)), T/binary>> || {I, A} <- lists:zip(lists:seq(1, Count), Atoms),
                                              T <- [atom_to_binary(A)]],
    iolist_to_binary([Count, Flags | Refs]).

flag_bytes([Low, High | Rest]) -> [(High bsl 4) bor Low | flag_bytes(Rest)];
flag_bytes([Low]) -> [Low];
flag_bytes([]) -> [].
